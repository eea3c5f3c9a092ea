import pytest

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_pages_render(client):
    product = ProductFactory()
    assert client.get("/").status_code == 200
    assert client.get("/catalog/").status_code == 200
    assert client.get(f"/products/{product.slug}/").status_code == 200

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: page fragments, rate-limit counters, versions."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def buyer(db):
    from tests.factories import DistributorFactory

    return DistributorFactory().user


@pytest.fixture
def buyer_client(client, buyer):
    client.force_login(buyer)
    return client

"""Quick order over HTTP: pasted text and uploaded CSV, good, bad and mixed lines."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from members.models import Distributor
from orders.models import CartLine
from orders.quick_order import MAX_BYTES, MAX_LINES
from tests.factories import DistributorFactory, ProductFactory

pytestmark = pytest.mark.django_db
URL = "/cart/quick-order/"


@pytest.fixture
def tee():
    return ProductFactory(name="Quick Tee", slug="qt", variants=["S", "M"])


def cart_state(member) -> dict[str, int]:
    return dict(
        CartLine.objects.filter(cart__member=member).values_list("variant__sku", "quantity")
    )


def outcomes(response) -> list[tuple[int, bool, str]]:
    return [(o.line_no, o.accepted, o.reason) for o in response.context["outcomes"]]


def csv_file(content: bytes, name="order.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


class TestPastingLines:
    def test_the_page_shows_the_form(self, buyer_client):
        response = buyer_client.get(URL)
        assert response.status_code == 200
        assert 'name="lines"' in response.content.decode()

    @pytest.mark.parametrize("separator", [", ", ",", ";", "\t", " ", "   "])
    def test_accepts_each_separator(self, buyer_client, buyer, tee, separator):
        response = buyer_client.post(URL, {"lines": f"QT-S{separator}12\nQT-M{separator}8"})
        assert response.status_code == 200
        assert cart_state(buyer) == {"QT-S": 12, "QT-M": 8}

    def test_good_lines_go_in_and_bad_lines_say_why(self, buyer_client, buyer, tee):
        text = "SKU,Quantity\nQT-S, 10\nNOPE-9, 3\nQT-M, -2\nQT-M\n\nqt-m, 4\nQT-S, 1e3\n"
        response = buyer_client.post(URL, {"lines": text})
        assert response.status_code == 200
        result = outcomes(response)
        assert [(line, ok) for line, ok, _ in result] == [
            (2, True),
            (3, False),
            (4, False),
            (5, False),
            (7, True),
            (8, False),
        ]
        reasons = dict((line, reason) for line, _, reason in result)
        assert "Unknown SKU" in reasons[3]
        assert "negative" in reasons[4]
        assert "SKU and the quantity" in reasons[5]
        assert "whole number" in reasons[8]
        assert cart_state(buyer) == {"QT-S": 10, "QT-M": 4}
        html = response.content.decode()
        assert "2 of 6 lines added to your cart." in html
        assert "Unknown SKU “NOPE-9”." in html

    def test_only_bad_lines_add_nothing_and_keep_the_text(self, buyer_client, buyer, tee):
        response = buyer_client.post(URL, {"lines": "NOPE, 1\nQT-S, 0.5"})
        assert response.status_code == 400
        assert "No line could be added" in response.content.decode()
        assert "NOPE, 1" in response.content.decode()  # back in the box to fix
        assert cart_state(buyer) == {}

    def test_over_stock_lines_are_refused_with_the_stock(self, buyer_client, buyer, tee):
        response = buyer_client.post(URL, {"lines": "QT-S, 101\nQT-M, 100"})
        assert [ok for _, ok, _ in outcomes(response)] == [False, True]
        assert "Only 100 of QT-S in stock." in outcomes(response)[0][2]

    def test_too_many_lines(self, buyer_client, buyer, tee):
        text = "\n".join(["QT-S, 1"] * (MAX_LINES + 1))
        response = buyer_client.post(URL, {"lines": text})
        assert response.status_code == 400
        assert f"At most {MAX_LINES} lines" in response.content.decode()
        assert cart_state(buyer) == {}

    def test_nothing_posted(self, buyer_client):
        response = buyer_client.post(URL, {"lines": "  \n"})
        assert response.status_code == 400
        assert "Paste some lines or choose a file." in response.content.decode()

    def test_script_in_a_sku_is_escaped(self, buyer_client, tee):
        response = buyer_client.post(URL, {"lines": "<script>alert(1)</script>, 1"})
        html = response.content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;" in html


class TestUploadingAFile:
    def test_a_utf8_csv_with_a_bom(self, buyer_client, buyer, tee):
        content = '\ufeffsku,qty\r\nQT-S,12\r\n"QT-M","6"\r\n'.encode()
        response = buyer_client.post(URL, {"file": csv_file(content)})
        assert response.status_code == 200
        assert cart_state(buyer) == {"QT-S": 12, "QT-M": 6}

    def test_a_spreadsheet_export_with_semicolons_and_empty_cells(self, buyer_client, buyer, tee):
        content = b"QT-S;24;;\nQT-M;12;;\n"
        buyer_client.post(URL, {"file": csv_file(content)})
        assert cart_state(buyer) == {"QT-S": 24, "QT-M": 12}

    def test_the_wrong_encoding_is_refused_whole(self, buyer_client, buyer, tee):
        content = "QT-S,12\nQT-M,6 # Größe\n".encode("utf-16")
        response = buyer_client.post(URL, {"file": csv_file(content)})
        assert response.status_code == 400
        assert cart_state(buyer) == {}
        content = "QT-S,12\nQT-M,6,Größe\n".encode("latin-1")
        response = buyer_client.post(URL, {"file": csv_file(content)})
        assert response.status_code == 400
        assert "not UTF-8" in response.content.decode()
        assert cart_state(buyer) == {}

    def test_an_oversized_file_is_refused(self, buyer_client, buyer, tee):
        content = b"QT-S,1\n" * (MAX_BYTES // 7 + 10)
        response = buyer_client.post(URL, {"file": csv_file(content)})
        assert response.status_code == 400
        assert "too large" in response.content.decode()
        assert cart_state(buyer) == {}

    def test_a_binary_file_is_refused(self, buyer_client, buyer, tee):
        content = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        response = buyer_client.post(URL, {"file": csv_file(content, "photo.csv")})
        assert response.status_code == 400
        assert cart_state(buyer) == {}

    def test_unbalanced_quotes_refuse_only_that_line(self, buyer_client, buyer, tee):
        content = b'QT-S,"12\nQT-M,6\n'
        response = buyer_client.post(URL, {"file": csv_file(content)})
        assert [ok for _, ok, _ in outcomes(response)] == [False, True]
        assert cart_state(buyer) == {"QT-M": 6}


class TestWhoMayUseIt:
    def test_a_guest_is_sent_to_log_in(self, client):
        response = client.get(URL)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")

    def test_a_member_waiting_for_approval_is_told_why(self, tee):
        client = Client()
        client.force_login(DistributorFactory(status=Distributor.Status.PENDING).user)
        page = client.get(URL).content.decode()
        assert "waiting for approval" in page and 'name="lines"' not in page
        response = client.post(URL, {"lines": "QT-S, 1"})
        assert response.status_code == 403
        assert not CartLine.objects.exists()

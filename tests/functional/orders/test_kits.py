"""Product kits through the buyer's pages (/account/kits/) and the kit task: a zip with the
images and three files, the buyer's prices, only the owner downloads, big kits built by the
task with progress, a failed build leaves no file, expired kits lose theirs."""

import csv
import html
import io
import re
import zipfile
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from catalog.images import product_image_add
from catalog.models import ProductKit
from members.models import Distributor, Level
from orders import kits
from tests.factories import CategoryFactory, DistributorFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WHOLESALE_SITE_URL = ""
    return settings.MEDIA_ROOT


def member_client(*, level=None, markup=None, status=Distributor.Status.APPROVED):
    distributor = DistributorFactory(status=status, retail_markup_percent=markup)
    if level:
        Distributor.objects.filter(pk=distributor.pk).update(level=Level.objects.get(name=level))
    member = type(distributor.user).objects.get(pk=distributor.user_id)
    client = Client()
    client.force_login(member)
    return member, client


def pictured(product, count=2):
    for colour in ("red", "blue", "green")[:count]:
        buffer = io.BytesIO()
        Image.new("RGB", (1400, 1000), colour).save(buffer, "JPEG")
        product_image_add(
            product=product, upload=SimpleUploadedFile("p.jpg", buffer.getvalue(), "image/jpeg")
        )
    return product


def download(client, kit) -> zipfile.ZipFile:
    response = client.get(f"/account/kits/{kit.pk}/download/")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def shopify(archive) -> list[dict]:
    text = archive.read(kits.SHOPIFY_FILE).decode("utf-8").lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


class TestOneProductKit:
    def test_is_built_at_once_with_images_and_three_files(self):
        member, client = member_client()
        product = pictured(ProductFactory(name="Canvas Tote"))
        response = client.post("/account/kits/new/", {"kind": "product", "product": product.pk})
        assert response.status_code == 302
        kit = ProductKit.objects.get(member=member)
        assert kit.status == ProductKit.Status.READY
        assert kit.progress == 100
        archive = download(client, kit)
        names = set(archive.namelist())
        handle = kits.handle_for(product)
        assert {kits.SHOPIFY_FILE, kits.WOOCOMMERCE_FILE, kits.XLSX_FILE} <= names
        assert {f"images/{handle}-1.jpg", f"images/{handle}-2.jpg"} <= names
        rows = shopify(archive)
        # Without a site URL, the CSVs point at the images inside the zip.
        assert [r["Product image URL"] for r in rows if r["Product image URL"]] == [
            f"images/{handle}-1.jpg",
            f"images/{handle}-2.jpg",
        ]

    def test_image_urls_are_absolute_with_a_site_url(self, settings):
        settings.WHOLESALE_SITE_URL = "https://shop.example.test"
        member, client = member_client()
        product = pictured(ProductFactory(), count=1)
        client.post("/account/kits/new/", {"kind": "product", "product": product.pk})
        rows = shopify(download(client, ProductKit.objects.get(member=member)))
        assert rows[0]["Product image URL"].startswith("https://shop.example.test/media/")

    @pytest.mark.parametrize(
        ("level", "markup", "price", "cost"),
        [
            (None, None, "4.20", "4.20"),
            (None, Decimal("50"), "6.30", "4.20"),
            ("Gold", None, "3.99", "3.99"),
            ("Gold", Decimal("50"), "5.99", "3.99"),  # 3.99 × 1.5 = 5.985
        ],
    )
    def test_prices_are_the_buyers(self, level, markup, price, cost):
        assert level is None or Level.objects.get(name=level).discount_percent == 5
        member, client = member_client(level=level, markup=markup)
        product = ProductFactory()
        client.post("/account/kits/new/", {"kind": "product", "product": product.pk})
        rows = shopify(download(client, ProductKit.objects.get(member=member)))
        assert {(r["Price"], r["Cost per item"]) for r in rows} == {(price, cost)}


class TestWhoMay:
    def test_another_members_kit_is_a_404(self):
        owner, owner_client = member_client()
        product = ProductFactory()
        owner_client.post("/account/kits/new/", {"kind": "product", "product": product.pk})
        kit = ProductKit.objects.get(member=owner)
        _, other = member_client()
        assert other.get(f"/account/kits/{kit.pk}/download/").status_code == 404
        assert (
            f"/account/kits/{kit.pk}/download/" not in other.get("/account/kits/").content.decode()
        )

    def test_guests_are_sent_to_log_in(self, client):
        response = client.get("/account/kits/")
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_a_pending_distributor_gets_a_message_and_no_kit(self):
        member, client = member_client(status=Distributor.Status.PENDING)
        product = ProductFactory()
        response = client.post(
            "/account/kits/new/", {"kind": "product", "product": product.pk}, follow=True
        )
        assert "not approved yet" in response.content.decode()
        assert not ProductKit.objects.filter(member=member).exists()


class TestBigKits:
    def test_a_category_kit_is_built_by_the_task_with_progress(
        self, django_capture_on_commit_callbacks, monkeypatch
    ):
        member, client = member_client()
        category = CategoryFactory(name="Bags")
        products = [pictured(ProductFactory(category=category), count=1) for _ in range(3)]
        seen = []
        real = kits._progress_writer

        def recording(kit_id):
            write = real(kit_id)

            def wrapped(percent):
                write(percent)
                seen.append(ProductKit.objects.get(pk=kit_id).progress)

            return wrapped

        monkeypatch.setattr(kits, "_progress_writer", recording)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            client.post("/account/kits/new/", {"kind": "category", "category": category.pk})
        kit = ProductKit.objects.get(member=member)
        assert kit.status == ProductKit.Status.PENDING
        page = client.get("/account/kits/").content.decode()
        assert 'http-equiv="refresh"' in page
        for callback in callbacks:
            callback()
        kit.refresh_from_db()
        assert kit.status == ProductKit.Status.READY
        assert kit.progress == 100
        assert seen and seen == sorted(seen) and 0 < seen[-1] < 100
        archive = download(client, kit)
        assert {r["URL handle"] for r in shopify(archive)} == {kits.handle_for(p) for p in products}
        assert 'http-equiv="refresh"' not in client.get("/account/kits/").content.decode()

    def test_a_selection_over_the_limit_goes_to_the_task(self, django_capture_on_commit_callbacks):
        member, client = member_client()
        products = [ProductFactory() for _ in range(kits.SYNC_LIMIT + 1)]
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/account/kits/new/", {"kind": "selection", "product": [p.pk for p in products]}
            )
        kit = ProductKit.objects.get(member=member)
        assert kit.kind == ProductKit.Kind.SELECTION
        assert kit.status == ProductKit.Status.READY
        assert len({r["URL handle"] for r in shopify(download(client, kit))}) == len(products)

    def test_new_arrivals_holds_this_weeks_products_only(self, django_capture_on_commit_callbacks):
        member, client = member_client()
        fresh = ProductFactory()
        old = ProductFactory(published_at=timezone.now() - timedelta(days=30))
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/account/kits/new/", {"kind": "new_arrivals"})
        kit = ProductKit.objects.get(member=member)
        handles = {r["URL handle"] for r in shopify(download(client, kit))}
        assert kits.handle_for(fresh) in handles
        assert kits.handle_for(old) not in handles

    def test_a_failing_build_is_marked_failed_with_no_file(self, monkeypatch, media):
        member, client = member_client()
        product = pictured(ProductFactory(), count=1)

        def broken(target, items, pricing, progress=None):
            target.write(b"PK half a zip")
            raise OSError("disk full")

        monkeypatch.setattr(kits, "kit_write", broken)
        response = client.post(
            "/account/kits/new/", {"kind": "product", "product": product.pk}, follow=True
        )
        kit = ProductKit.objects.get(member=member)
        assert kit.status == ProductKit.Status.FAILED
        assert not kit.file
        assert not (media / "kits").exists() or not any((media / "kits").rglob("*.zip"))
        assert "could not be built" in response.content.decode()
        assert client.get(f"/account/kits/{kit.pk}/download/").status_code == 404


class TestExpiry:
    def test_expired_kits_lose_their_file(self):
        member, client = member_client()
        product = ProductFactory()
        client.post("/account/kits/new/", {"kind": "product", "product": product.pk})
        kit = ProductKit.objects.get(member=member)
        name = kit.file.name
        assert default_storage.exists(name)
        assert kits.kits_expire(now=timezone.now() + timedelta(days=6)) == 0
        assert kits.kits_expire_task.delay().get() == 0  # the beat job: nothing due yet
        assert kits.kits_expire(now=timezone.now() + timedelta(days=kits.KIT_DAYS, minutes=1)) == 1
        kit.refresh_from_db()
        assert kit.status == ProductKit.Status.EXPIRED
        assert not default_storage.exists(name)
        assert client.get(f"/account/kits/{kit.pk}/download/").status_code == 404


class TestThePages:
    def test_the_markup_form_saves_and_refuses_out_of_range(self):
        member, client = member_client()
        client.post("/account/kits/markup/", {"retail_markup_percent": "35.5"})
        assert Distributor.objects.get(user=member).retail_markup_percent == Decimal("35.5")
        response = client.post("/account/kits/markup/", {"retail_markup_percent": "1001"})
        assert response.status_code == 400
        assert Distributor.objects.get(user=member).retail_markup_percent == Decimal("35.5")
        client.post("/account/kits/markup/", {"retail_markup_percent": ""})
        assert Distributor.objects.get(user=member).retail_markup_percent is None

    def test_the_list_costs_a_fixed_number_of_queries(self, django_assert_max_num_queries):
        _, client = member_client()
        for _ in range(3):
            client.post("/account/kits/new/", {"kind": "product", "product": ProductFactory().pk})
        with django_assert_max_num_queries(12):
            response = client.get("/account/kits/")
        assert response.content.decode().count("/download/") == 3

    def test_product_and_category_pages_offer_a_kit(self):
        _, client = member_client()
        category = CategoryFactory(name="Caps")
        product = ProductFactory(category=category)
        page = client.get(product.get_absolute_url()).content.decode()
        assert f"/account/kits/?product={product.pk}" in page
        listing = client.get(f"/catalog/?category={category.slug}").content.decode()
        assert f"/account/kits/?category={category.pk}" in listing
        offer = client.get(f"/account/kits/?product={product.pk}").content.decode()
        assert 'data-testid="kit-product"' in offer


class TestChoosingASelection:
    def test_several_products_are_offered_ticked_and_the_kit_holds_those_kept(self):
        member, client = member_client()
        chosen = [ProductFactory(name=name) for name in ("Apron", "Beanie", "Cap")]
        hidden = ProductFactory(name="Draft", status="draft", published_at=None)
        query = "&".join(f"product={p.pk}" for p in [*chosen, hidden])
        page = client.get(f"/account/kits/?{query}").content.decode()
        assert 'data-testid="kit-selection"' in page
        for product in chosen:
            assert f'name="product" value="{product.pk}" checked' in page
        assert "Draft" not in page
        # The buyer unticks the cap.
        client.post(
            "/account/kits/new/",
            {"kind": "selection", "product": [chosen[0].pk, chosen[1].pk]},
        )
        kit = ProductKit.objects.get(member=member)
        assert kit.kind == ProductKit.Kind.SELECTION and kit.status == ProductKit.Status.READY
        handles = {r["URL handle"] for r in shopify(download(client, kit))}
        assert handles == {kits.handle_for(chosen[0]), kits.handle_for(chosen[1])}

    def test_a_selection_past_the_limit_is_refused_with_a_reason(self, settings):
        member, client = member_client()
        too_many = list(range(1, kits.SELECTION_LIMIT + 2))
        response = client.post(
            "/account/kits/new/", {"kind": "selection", "product": too_many}, follow=True
        )
        assert "at most" in response.content.decode()
        assert not ProductKit.objects.filter(member=member).exists()

    def test_the_favorites_page_links_to_a_kit_of_the_favorites_on_sale(self):
        _, client = member_client()
        kept = [ProductFactory(), ProductFactory()]
        withdrawn = ProductFactory()
        for product in [*kept, withdrawn]:
            client.post(f"/account/favorites/{product.pk}/add/")
        withdrawn.status = "draft"
        withdrawn.save()
        page = client.get("/account/favorites/").content.decode()
        link = re.search(r'data-testid="favorites-kit" href="/account/kits/\?([^"]+)"', page)
        offered = parse_qs(html.unescape(link.group(1)))["product"]
        assert sorted(map(int, offered)) == sorted(p.pk for p in kept)

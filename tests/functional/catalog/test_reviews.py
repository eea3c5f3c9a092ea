"""Reviews through the browser's door: the buyer's review pages (/account/reviews/), the product
page and cards, moderation in the admin. Refusals carry a message and write nothing; script
payloads come out escaped (RELIABILITY B8); bad photos are refused (B5); another member's
review is out of reach (B3); the pages' query counts do not grow with the reviews."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from catalog.models import Review, ReviewPhoto
from orders.models import OrderState
from staff import roles
from tests.factories import DistributorFactory, ProductFactory, StaffFactory
from tests.integration.orders.review_helpers import (
    order_in_state,
    photo,
    picture_bytes,
    png_claiming,
)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAK = '"><img src=x onerror=alert(1)>'


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def product():
    return ProductFactory(name="Linen Shirt", variants__stock=1000)


@pytest.fixture
def received(buyer, product):
    return order_in_state(buyer, product, OrderState.DELIVERED)


def form_url(product) -> str:
    return f"/account/reviews/{product.slug}/"


def review_data(**fields) -> dict:
    return {"rating": "5", "title": "Great shirts", "text": "Good fabric, true to size."} | fields


def approve(review_or_qs, client, moderator):
    ids = [review_or_qs.pk] if isinstance(review_or_qs, Review) else list(review_or_qs)
    client.force_login(moderator)
    return client.post(
        "/admin/catalog/review/",
        {"action": "approve", "_selected_action": [str(pk) for pk in ids]},
    )


@pytest.fixture
def editor():
    call_command("roles_sync", verbosity=0)
    user = StaffFactory(first_name="Edna")
    user.groups.add(Group.objects.get(name=roles.EDITOR))
    return user


def approved_review(product, *, rating=5, title="", text="Fine", photos=0, **member_fields):
    member = DistributorFactory(**member_fields).user
    review = Review.objects.create(
        product=product, member=member, rating=rating, title=title, text=text, status="approved"
    )
    for position in range(photos):
        ReviewPhoto.objects.create(
            review=review, image=f"reviews/x{review.pk}-{position}.jpg", width=400, height=300
        )
    return review


class TestWritingAReview:
    def test_a_product_not_bought_is_refused_with_a_message(self, buyer_client, product):
        page = buyer_client.get(form_url(product))
        assert page.status_code == 403
        assert "once you have received it" in page.content.decode()
        assert 'data-testid="review-form"' not in page.content.decode()
        response = buyer_client.post(form_url(product), review_data())
        assert response.status_code == 403
        assert not Review.objects.exists()

    def test_bought_but_not_yet_received_is_refused(self, buyer, buyer_client, product):
        order_in_state(buyer, product, OrderState.PAID)
        response = buyer_client.post(form_url(product), review_data())
        assert response.status_code == 403
        assert "once you have received it" in response.content.decode()
        assert not Review.objects.exists()

    def test_an_unknown_product_is_a_404(self, buyer_client):
        assert buyer_client.get("/account/reviews/no-such-thing/").status_code == 404

    def test_guests_are_sent_to_log_in(self, client, product):
        response = client.get(form_url(product))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    @pytest.mark.usefixtures("received")
    def test_a_received_product_is_reviewed_and_waits_for_moderation(
        self, buyer_client, client, product
    ):
        response = buyer_client.post(form_url(product), review_data(text="Shows after approval"))
        assert response.status_code == 302
        assert response["Location"] == "/account/reviews/"
        review = Review.objects.get()
        assert review.status == Review.Status.PENDING
        listing = buyer_client.get("/account/reviews/").content.decode()
        assert "Linen Shirt" in listing
        assert 'data-status="pending"' in listing
        assert "Shows after approval" not in client.get(product.get_absolute_url()).content.decode()

    @pytest.mark.usefixtures("received")
    def test_a_second_review_edits_the_first_back_to_pending(self, buyer_client, product):
        buyer_client.post(form_url(product), review_data(rating="5"))
        Review.objects.update(status=Review.Status.APPROVED)
        page = buyer_client.get(form_url(product)).content.decode()
        assert "Saving changes sends your review to moderation again" in page
        buyer_client.post(form_url(product), review_data(rating="2", text="Shrank."))
        review = Review.objects.get()
        assert (review.rating, review.text, review.status) == (2, "Shrank.", "pending")

    @pytest.mark.usefixtures("received")
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"rating": "0"}, "Choose a rating from 1 to 5 stars."),
            ({"rating": "abc"}, "Choose a rating from 1 to 5 stars."),
            ({"text": ""}, "Tell other buyers what you think of the product."),
            ({"text": SCRIPT}, "HTML tags such as &lt;script&gt;"),
            ({"title": ATTRIBUTE_BREAK}, "HTML tags such as &lt;script&gt;"),
        ],
    )
    def test_bad_input_is_refused_with_a_message(self, buyer_client, product, fields, message):
        response = buyer_client.post(form_url(product), review_data(**fields))
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Review.objects.exists()

    def test_the_order_page_links_to_the_form_for_received_products(
        self, buyer, buyer_client, product
    ):
        unpaid = order_in_state(buyer, ProductFactory(name="Wool Socks"), "pending_payment")
        page = buyer_client.get(f"/account/orders/{unpaid.number}/").content.decode()
        assert 'data-testid="order-reviews"' not in page
        delivered = order_in_state(buyer, product, OrderState.DELIVERED)
        page = buyer_client.get(f"/account/orders/{delivered.number}/").content.decode()
        assert f'href="{form_url(product)}" data-testid="write-review"' in page

    def test_the_product_page_invites_only_members_who_received_it(
        self, buyer, buyer_client, client, product
    ):
        assert (
            'data-testid="review-invite"'
            not in client.get(product.get_absolute_url()).content.decode()
        )
        page = buyer_client.get(product.get_absolute_url()).content.decode()
        assert 'data-testid="review-invite"' not in page
        order_in_state(buyer, product, OrderState.COMPLETED)
        page = buyer_client.get(product.get_absolute_url()).content.decode()
        assert f'<a class="button secondary" href="{form_url(product)}">Write a review</a>' in page

    @pytest.mark.usefixtures("received")
    def test_the_review_list_offers_received_products(self, buyer_client, product):
        page = buyer_client.get("/account/reviews/").content.decode()
        assert f'href="{form_url(product)}" data-testid="write-review"' in page
        account = buyer_client.get("/account/").content.decode()
        assert 'href="/account/reviews/"' in account


class TestPhotosThroughTheForm:
    @pytest.fixture(autouse=True)
    def _received(self, received):
        return received

    def test_photos_are_stored_without_metadata(self, buyer_client, product, media_root):
        from tests.integration.orders.review_helpers import jpeg_with_gps

        response = buyer_client.post(
            form_url(product), review_data(photos=[photo(jpeg_with_gps()), photo()])
        )
        assert response.status_code == 302
        rows = list(Review.objects.get().photos.order_by("position"))
        assert [(p.width, p.height) for p in rows] == [(300, 200), (400, 300)]
        for row in rows:
            raw = (Path(media_root) / row.image.name).read_bytes()
            assert b"Exif" not in raw
            assert b"SpyCam" not in raw

    @pytest.mark.parametrize(
        ("upload", "message"),
        [
            (lambda: photo(b"not an image at all", name="photo.jpg"), "is not a JPEG, PNG"),
            (lambda: photo(png_claiming(20_000, 20_000), name="bomb.png"), "too many pixels"),
        ],
        ids=["text renamed .jpg", "decompression bomb"],
    )
    def test_a_bad_picture_is_refused_with_a_message(
        self, buyer_client, product, media_root, upload, message
    ):
        response = buyer_client.post(form_url(product), review_data(photos=[upload()]))
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Review.objects.exists()
        assert stored_files(media_root) == []

    def test_an_oversized_picture_is_refused(self, buyer_client, product, media_root, settings):
        settings.WHOLESALE_IMAGE_MAX_BYTES = 50_000
        big = photo(picture_bytes((1200, 1200), "PNG") + b"\0" * 60_000, name="big.png")
        response = buyer_client.post(form_url(product), review_data(photos=[big]))
        assert response.status_code == 400
        assert "images may be at most" in response.content.decode()
        assert not Review.objects.exists()
        assert stored_files(media_root) == []

    def test_too_many_photos_are_refused(self, buyer_client, product, media_root):
        response = buyer_client.post(
            form_url(product), review_data(photos=[photo() for _ in range(5)])
        )
        assert response.status_code == 400
        assert "Add at most 4 photos; you chose 5." in response.content.decode()
        assert not Review.objects.exists()
        assert stored_files(media_root) == []

    def test_a_flood_of_files_is_a_400_and_nothing_is_stored(
        self, buyer_client, product, media_root
    ):
        # DATA_UPLOAD_MAX_NUMBER_FILES (20) stops the request before any view code runs.
        response = buyer_client.post(
            form_url(product), review_data(photos=[photo() for _ in range(101)])
        )
        assert response.status_code == 400
        assert not Review.objects.exists()
        assert stored_files(media_root) == []


class TestAnotherMembersReview:
    def test_cannot_be_deleted_or_edited_by_someone_else(self, client, buyer, product):
        order_in_state(buyer, product, OrderState.DELIVERED)
        client.force_login(buyer)
        client.post(form_url(product), review_data(text="Mine"))
        mine = Review.objects.get()

        other = DistributorFactory().user
        client.force_login(other)
        assert client.post(f"/account/reviews/{mine.pk}/delete/").status_code == 404
        # Their form is about their own review: without a delivery of their own, refused.
        assert client.post(form_url(product), review_data(text="Hijacked")).status_code == 403
        order_in_state(other, product, OrderState.DELIVERED)
        client.post(form_url(product), review_data(text="Theirs"))
        mine.refresh_from_db()
        assert mine.text == "Mine"
        assert Review.objects.filter(member=other).get().text == "Theirs"
        assert "Mine" not in client.get("/account/reviews/").content.decode()

    def test_the_owner_may_delete_their_review(self, buyer_client, received, product):
        buyer_client.post(form_url(product), review_data())
        review = Review.objects.get()
        response = buyer_client.post(f"/account/reviews/{review.pk}/delete/")
        assert response.status_code == 302
        assert not Review.objects.exists()


class TestModeration:
    def test_approving_shows_the_review_and_updates_the_summary_on_cached_pages(
        self, client, buyer, product, editor, django_capture_on_commit_callbacks
    ):
        order_in_state(buyer, product, OrderState.DELIVERED)
        client.force_login(buyer)
        client.post(form_url(product), review_data(rating="4", text="Sturdy seams"))
        review = Review.objects.get()
        client.logout()
        before = client.get(product.get_absolute_url()).content.decode()
        assert "Sturdy seams" not in before
        assert 'data-testid="rating-summary"' not in client.get("/catalog/").content.decode()

        with django_capture_on_commit_callbacks(execute=True):
            approve(review, client, editor)
        review.refresh_from_db()
        assert review.status == Review.Status.APPROVED
        assert review.moderated_by == editor
        assert review.moderated_at is not None

        client.logout()
        page = client.get(product.get_absolute_url()).content.decode()
        assert "Sturdy seams" in page
        assert "Ana, Spain" in page  # the buyer's first name and country, nothing more
        assert buyer.email not in page
        assert 'data-average="4.0" data-count="1"' in page
        listing = client.get("/catalog/").content.decode()
        assert 'data-average="4.0" data-count="1"' in listing

        client.force_login(editor)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/admin/catalog/review/",
                {"action": "reject", "_selected_action": [str(review.pk)]},
            )
        client.logout()
        assert "Sturdy seams" not in client.get(product.get_absolute_url()).content.decode()
        assert 'data-count="1"' not in client.get("/catalog/").content.decode()

    def test_deleting_an_approved_review_updates_the_page(
        self, client, product, editor, django_capture_on_commit_callbacks
    ):
        review = approved_review(product, text="Soon gone")
        assert "Soon gone" in client.get(product.get_absolute_url()).content.decode()
        client.force_login(editor)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/admin/catalog/review/{review.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        client.logout()
        assert "Soon gone" not in client.get(product.get_absolute_url()).content.decode()

    def test_the_admin_lists_filters_and_shows_photos_read_only(self, client, product, editor):
        review = approved_review(product, rating=2, text="Meh", photos=2)
        Review.objects.create(
            product=product, member=DistributorFactory().user, rating=5, text="Yay"
        )
        client.force_login(editor)
        listing = client.get("/admin/catalog/review/?status__exact=pending").content.decode()
        assert "Yay" not in listing or "Meh" not in listing
        assert client.get("/admin/catalog/review/?rating=2&q=Meh").status_code == 200
        page = client.get(f"/admin/catalog/review/{review.pk}/change/").content.decode()
        assert page.count('loading="lazy"') == 2
        assert "reviews/x" in page
        assert client.get("/admin/catalog/review/add/").status_code == 403

    def test_changing_the_status_on_the_form_stamps_the_moderator(self, client, product, editor):
        review = Review.objects.create(
            product=product, member=DistributorFactory().user, rating=3, text="Ok"
        )
        client.force_login(editor)
        response = client.post(
            f"/admin/catalog/review/{review.pk}/change/",
            {
                "status": "rejected",
                "photos-TOTAL_FORMS": "0",
                "photos-INITIAL_FORMS": "0",
                "photos-MIN_NUM_FORMS": "0",
                "photos-MAX_NUM_FORMS": "1000",
            },
        )
        assert response.status_code == 302
        review.refresh_from_db()
        assert (review.status, review.moderated_by) == ("rejected", editor)


class TestScriptPayloads:
    """B8: what a review says is shown as text on the product page and in the admin."""

    @pytest.mark.parametrize("payload", [SCRIPT, ATTRIBUTE_BREAK])
    def test_are_escaped_on_the_product_page_and_in_the_admin(
        self, client, product, editor, payload
    ):
        review = approved_review(
            product, title=payload, text=f"Fine {payload}", contact_name=payload
        )
        html = client.get(product.get_absolute_url()).content.decode()
        assert "<script>alert(1)" not in html
        assert "<img src=x onerror" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;img src=x" in html
        client.force_login(editor)
        for url in ("/admin/catalog/review/", f"/admin/catalog/review/{review.pk}/change/"):
            page = client.get(url).content.decode()
            assert "<script>alert(1)" not in page
            assert "<img src=x onerror" not in page


class TestQueryCounts:
    @pytest.mark.usefixtures("warm_layout")
    def test_the_product_page_costs_the_same_with_one_or_ten_reviews(
        self, buyer_client, settings, django_assert_max_num_queries
    ):
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0
        few, many = ProductFactory(), ProductFactory()
        approved_review(few, photos=1)
        for n in range(10):
            approved_review(many, rating=1 + n % 5, photos=2)
        buyer_client.get(few.get_absolute_url())  # the layout's and category tree's caches
        counts = []
        for item in (few, many):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as queries:
                page = buyer_client.get(item.get_absolute_url())
            assert page.status_code == 200
            counts.append(len(queries))
        assert page.content.decode().count('data-testid="review"') == 10
        assert page.content.decode().count('loading="lazy" decoding="async" alt="Photo') == 20
        assert counts[0] == counts[1]
        # session, user, distributor, product, variants, tiers, images, cart count, then the
        # reviews with their summary, their photos, and the member's "Write a review" check.
        with django_assert_max_num_queries(10):
            buyer_client.get(many.get_absolute_url())

    @pytest.mark.usefixtures("warm_layout")
    def test_the_cards_summary_costs_one_query_whatever_the_reviews(
        self, client, settings, django_assert_max_num_queries
    ):
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0
        products = [ProductFactory(name=f"Item {n}") for n in range(12)]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.get("/catalog/")
        with CaptureQueriesContext(connection) as bare:
            client.get("/catalog/")
        for index, item in enumerate(products):
            for rating in range(1 + index % 3):
                approved_review(item, rating=rating + 3)
        client.get("/catalog/")  # the category tree and count, cached again after the change
        with CaptureQueriesContext(connection) as reviewed:
            html = client.get("/catalog/").content.decode()
        assert len(reviewed) == len(bare)
        assert len(re.findall(r'data-testid="rating-summary"', html)) == 12
        with django_assert_max_num_queries(5):
            client.get("/catalog/")

"""Who may review which product (orders.reviews), and what writing a review stores: refusals
with a message and nothing written, moderation before showing, photos checked and stripped
(RELIABILITY B5), summaries of approved reviews only."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from PIL import ExifTags, Image

from catalog.models import Review, ReviewPhoto
from catalog.reviews import (
    NO_REVIEWS,
    approved_reviews,
    rating_summaries,
    rating_summary,
    review_moderate,
)
from orders.models import OrderState, Shipment
from orders.reviews import order_reviewable_products, review_eligible_products, review_write
from tests.factories import DistributorFactory, ProductFactory, StaffFactory

from .review_helpers import (
    SVG_WITH_SCRIPT,
    jpeg_with_gps,
    order_in_state,
    photo,
    picture_bytes,
    png_claiming,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def member():
    return DistributorFactory(contact_name="Ana Maria Buyer", country="ES").user


@pytest.fixture
def product():
    return ProductFactory(name="Linen Shirt")


def write(member, product, **fields):
    fields.setdefault("rating", 5)
    fields.setdefault("text", "Good fabric, true to size.")
    return review_write(member=member, product_slug=product.slug, **fields)


class TestWhoMayReview:
    def test_a_product_never_bought_is_refused_and_nothing_is_written(self, member, product):
        with pytest.raises(ValidationError) as refused:
            write(member, product)
        assert "once you have received it" in refused.value.messages[0]
        assert not Review.objects.exists()
        assert list(review_eligible_products(member)) == []

    @pytest.mark.parametrize(
        "state", [OrderState.PENDING_PAYMENT, OrderState.PAID, OrderState.SHIPPED]
    )
    def test_bought_but_not_received_is_refused(self, member, product, state):
        order_in_state(member, product, state)
        with pytest.raises(ValidationError, match="once you have received it"):
            write(member, product)
        assert not Review.objects.exists()

    @pytest.mark.parametrize("state", [OrderState.DELIVERED, OrderState.COMPLETED])
    def test_a_received_product_may_be_reviewed(self, member, product, state):
        order_in_state(member, product, state)
        assert list(review_eligible_products(member)) == [product]
        review = write(member, product, rating=4, title="Nice")
        assert (review.status, review.rating, review.title) == (Review.Status.PENDING, 4, "Nice")

    def test_a_shipped_order_counts_as_received_after_thirty_days(self, member, product):
        order = order_in_state(member, product, OrderState.SHIPPED)
        assert list(review_eligible_products(member)) == []
        Shipment.objects.filter(order=order).update(shipped_at=order.placed_at - timedelta(days=31))
        assert list(review_eligible_products(member)) == [product]

    def test_someone_elses_delivery_gives_no_right(self, member, product):
        order_in_state(DistributorFactory().user, product, OrderState.DELIVERED)
        with pytest.raises(ValidationError):
            write(member, product)

    def test_a_refunded_order_gives_no_right(self, member, product):
        order = order_in_state(member, product, OrderState.DELIVERED)
        order.lines.update(refunded_quantity=order.lines.get().quantity)
        with pytest.raises(ValidationError):
            write(member, product)

    def test_an_unknown_product_is_refused(self, member):
        with pytest.raises(ValidationError, match="no such product"):
            review_write(member=member, product_slug="nope", rating=5, text="x")

    def test_the_order_page_lists_received_products_with_the_review(self, member, product):
        order = order_in_state(member, product, OrderState.DELIVERED)
        lines = list(order.lines.all())
        [item] = order_reviewable_products(member=member, order=order, lines=lines)
        assert (item.product, item.review_id) == (product, None)
        review = write(member, product)
        [item] = order_reviewable_products(member=member, order=order, lines=lines)
        assert (item.review_id, item.review_status_label) == (review.pk, "Waiting for moderation")
        stranger = DistributorFactory().user
        assert order_reviewable_products(member=stranger, order=order, lines=lines) == []

    def test_an_order_not_received_yet_costs_no_query(
        self, member, product, django_assert_num_queries
    ):
        order = order_in_state(member, product, OrderState.SHIPPED)
        lines = list(order.lines.all())
        shipped_at = Shipment.objects.get(order=order).shipped_at
        with django_assert_num_queries(0):
            assert (
                order_reviewable_products(
                    member=member, order=order, lines=lines, first_shipped_at=shipped_at
                )
                == []
            )
        long_ago = shipped_at - timedelta(days=31)
        [item] = order_reviewable_products(
            member=member, order=order, lines=lines, first_shipped_at=long_ago
        )
        assert item.product == product


class TestWriting:
    @pytest.fixture(autouse=True)
    def received(self, member, product):
        order_in_state(member, product, OrderState.DELIVERED)

    def test_a_second_review_rewrites_the_first_and_waits_for_moderation_again(
        self, member, product
    ):
        first = write(member, product, rating=5)
        review_moderate(
            reviews=Review.objects.filter(pk=first.pk),
            status=Review.Status.APPROVED,
            by=StaffFactory(),
        )
        second = write(member, product, rating=2, text="Shrank in the wash.")
        assert second.pk == first.pk
        first.refresh_from_db()
        assert (first.rating, first.status, first.moderated_by) == (2, Review.Status.PENDING, None)
        assert Review.objects.count() == 1

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"rating": 0}, "rating", "1 to 5"),
            ({"rating": 6}, "rating", "1 to 5"),
            ({"rating": "abc"}, "rating", "1 to 5"),
            ({"text": "   "}, "text", "what you think"),
            ({"text": "x" * 4001}, "text", "at most 4000"),
            ({"title": "t" * 121}, "title", "at most 120"),
            ({"text": "<script>alert(1)</script>"}, "text", "HTML tags"),
            ({"title": '"><img src=x onerror=alert(1)>'}, "title", "HTML tags"),
        ],
    )
    def test_bad_fields_are_refused_with_a_message(self, member, product, fields, field, message):
        with pytest.raises(ValidationError) as refused:
            write(member, product, **fields)
        assert message in " ".join(refused.value.message_dict[field])
        assert not Review.objects.exists()

    def test_plain_text_with_angle_brackets_is_fine(self, member, product):
        review = write(member, product, text="Sizes run small: order M if you are < 80 kg <3")
        assert "< 80 kg <3" in review.text


class TestPhotos:
    @pytest.fixture(autouse=True)
    def received(self, member, product):
        order_in_state(member, product, OrderState.DELIVERED)

    def test_photos_are_stored_with_their_size_and_without_metadata(
        self, member, product, media_root
    ):
        review = write(
            member, product, photos=[photo(jpeg_with_gps()), photo(picture_bytes((2400, 1200)))]
        )
        first, second = review.photos.order_by("position")
        assert (first.width, first.height) == (300, 200)
        assert (second.width, second.height) == (1600, 800)  # scaled to at most 1600 px
        for row in (first, second):
            path = Path(media_root) / row.image.name
            raw = path.read_bytes()
            assert b"Exif" not in raw
            assert b"SpyCam" not in raw
            with Image.open(path) as image:
                assert image.size == (row.width, row.height)
                assert len(image.getexif()) == 0
                assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    @pytest.mark.parametrize(
        ("upload", "message"),
        [
            (lambda: photo(b"just some text, honest", name="photo.jpg"), "not a JPEG"),
            (lambda: photo(SVG_WITH_SCRIPT, name="x.svg", content_type="image/svg+xml"), "not a"),
            (lambda: photo(png_claiming(20_000, 20_000), name="bomb.png"), "too many pixels"),
            (lambda: photo(picture_bytes()[:200]), "damaged"),
        ],
        ids=["text renamed .jpg", "svg with script", "decompression bomb", "truncated"],
    )
    def test_bad_pictures_are_refused_and_nothing_is_stored(
        self, member, product, media_root, upload, message
    ):
        with pytest.raises(ValidationError) as refused:
            write(member, product, photos=[photo(), upload()])
        assert message in " ".join(refused.value.message_dict["photos"])
        assert not Review.objects.exists()
        assert stored_files(media_root) == []

    def test_an_oversized_file_is_refused(self, member, product, media_root, settings):
        settings.WHOLESALE_IMAGE_MAX_BYTES = 50_000
        big = photo(picture_bytes((1200, 1200), "PNG", color=(1, 2, 3)) + b"\0" * 60_000)
        with pytest.raises(ValidationError, match="images may be at most"):
            write(member, product, photos=[big])
        assert not Review.objects.exists()
        assert stored_files(media_root) == []

    def test_more_than_four_photos_are_refused(self, member, product, media_root):
        with pytest.raises(ValidationError) as refused:
            write(member, product, photos=[photo() for _ in range(5)])
        assert "at most 4 photos" in refused.value.message_dict["photos"][0]
        assert stored_files(media_root) == []

    def test_new_photos_replace_the_old_ones_and_their_files_go(
        self, member, product, media_root, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            write(member, product, photos=[photo(), photo()])
        old = stored_files(media_root)
        assert len(old) == 2
        with django_capture_on_commit_callbacks(execute=True):
            review = write(member, product, photos=[photo()])
        assert review.photos.count() == 1
        assert len(stored_files(media_root)) == 1
        assert not set(old) & set(stored_files(media_root))
        with django_capture_on_commit_callbacks(execute=True):
            write(member, product, text="Edited, photos kept")
        assert ReviewPhoto.objects.count() == 1


class TestSummaries:
    def test_only_approved_reviews_count_in_one_query(self, product, django_assert_num_queries):
        other, unreviewed = ProductFactory(), ProductFactory()
        for rating, status in ((5, "approved"), (4, "approved"), (1, "pending"), (2, "rejected")):
            buyer = DistributorFactory().user
            Review.objects.create(
                product=product, member=buyer, rating=rating, text="t", status=status
            )
        Review.objects.create(
            product=other, member=DistributorFactory().user, rating=3, text="t", status="approved"
        )
        with django_assert_num_queries(1):
            summaries = rating_summaries([product.pk, other.pk, unreviewed.pk])
        assert (summaries[product.pk].count, str(summaries[product.pk].average)) == (2, "4.5")
        assert (summaries[other.pk].count, str(summaries[other.pk].average)) == (1, "3.0")
        assert len(summaries) == 2
        assert rating_summary(unreviewed.pk) == NO_REVIEWS

    def test_approved_reviews_show_the_first_name_and_country_only(self, member, product):
        Review.objects.create(
            product=product, member=member, rating=5, text="Lovely", status="approved"
        )
        [shown] = approved_reviews(product.pk)
        assert (shown.author, shown.country) == ("Ana", "Spain")
        assert member.email not in repr(shown)

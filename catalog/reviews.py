"""Product reviews on the catalog's side: rating summaries and approved reviews as the shop
shows them (selectors), and saving, moderating and deleting reviews (services).

Who may review is not decided here: only the ordering side knows what a member received
(orders.reviews checks it, then calls ``review_save``). Catalog pages are cached, so whatever
changes what the shop shows of a review (approving, rejecting, deleting, or a buyer editing an
approved review back into moderation) bumps the catalog version once the transaction commits.

Photos are checked by catalog.images (JPEG, PNG, WebP or GIF only, size cap, decompression-bomb
guard), turned upright, scaled to at most ``PHOTO_MAX_SIDE`` and re-encoded, so the stored file
carries no metadata (EXIF, a phone's GPS position) and is never the uploaded bytes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Prefetch, QuerySet, Window
from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .cache import bump_catalog_version
from .images import image_reencode, stored_files_delete
from .models import Product, Review, ReviewPhoto

MAX_PHOTOS = 4
PHOTO_MAX_SIDE = 1600
PHOTO_JPEG_QUALITY = 85
REVIEWS_SHOWN = 20
TITLE_MAX = Review._meta.get_field("title").max_length
TEXT_MAX = Review._meta.get_field("text").max_length
# Markup in a review is refused at the door (the issue: "reviews with script tags: refused"):
# a tag opener such as "<script", "</b", "<img" or "<!--". "<3" and "a < b" stay allowed.
# Whatever reaches the pages anyway is escaped there (no |safe on review text).
_MARKUP = re.compile(r"<\s*[/!?]?\s*[a-zA-Z!]")


# --- Reads ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """The approved reviews of one product: their count and average rating (None if none)."""

    count: int
    average: Decimal | None

    @property
    def average_display(self) -> str:
        return "" if self.average is None else format(self.average, "f")

    @property
    def full_stars(self) -> int:
        if self.average is None:
            return 0
        return int(self.average.quantize(Decimal(1), rounding=ROUND_HALF_UP))


NO_REVIEWS = RatingSummary(count=0, average=None)


def _one_decimal(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rating_summaries(product_ids: Iterable[int]) -> dict[int, RatingSummary]:
    """The rating summary of each product, in one query; products without an approved review
    are absent (read them as ``NO_REVIEWS``)."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    rows = (
        Review.objects.filter(product_id__in=ids, status=Review.Status.APPROVED)
        .order_by()
        .values("product_id")
        .annotate(count=Count("id"), average=Avg("rating"))
    )
    return {
        row["product_id"]: RatingSummary(count=row["count"], average=_one_decimal(row["average"]))
        for row in rows
    }


def rating_summary(product_id: int) -> RatingSummary:
    return rating_summaries([product_id]).get(product_id, NO_REVIEWS)


def stars_html(summary: RatingSummary) -> SafeString:
    """Five stars, the average filled in, with the number of reviews; "" with no review."""
    if not summary.count:
        return SafeString("")
    filled = summary.full_stars
    label = ngettext(
        "Rated %(average)s out of 5 from %(count)s review",
        "Rated %(average)s out of 5 from %(count)s reviews",
        summary.count,
    ) % {"average": summary.average_display, "count": summary.count}
    return format_html(
        '<span class="rating" data-testid="rating-summary" data-average="{}" data-count="{}">'
        '<span class="stars" role="img" aria-label="{}">{}<span class="off">{}</span></span> '
        '<span class="rating-count">{} ({})</span></span>',
        summary.average_display,
        summary.count,
        label,
        "★" * filled,
        "☆" * (5 - filled),
        summary.average_display,
        summary.count,
    )


@dataclass(frozen=True, slots=True)
class ReviewPhotoView:
    url: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ReviewView:
    """An approved review as the product page shows it: the author by first name and
    country only, never their email or company."""

    rating: int
    title: str
    text: str
    created_at: object
    author: str
    country: str
    photos: tuple[ReviewPhotoView, ...]

    @property
    def stars(self) -> str:
        return "★" * self.rating + "☆" * (5 - self.rating)


def _author(review: Review) -> tuple[str, str]:
    member = review.member
    first_name = (member.first_name or "").strip()
    country = ""
    distributor = getattr(member, "distributor", None)
    if distributor is not None:
        first_name = first_name or (distributor.contact_name or "").strip()
        country = str(distributor.country.name) if distributor.country else ""
    first_name = first_name.split()[0] if first_name else _("A buyer")
    return first_name, country


def approved_reviews(product_id: int, *, limit: int = REVIEWS_SHOWN) -> list[ReviewView]:
    return product_reviews_page(product_id, limit=limit)[1]


def product_reviews_page(
    product_id: int, *, limit: int = REVIEWS_SHOWN
) -> tuple[RatingSummary, list[ReviewView]]:
    """The product's rating summary and its newest approved reviews with their photos.

    One query without reviews, two with them, whatever their number: the reviews with their
    authors and, through window functions, the count and average of all approved ones (not
    only the `limit` shown); then the photos.
    """
    reviews = (
        Review.objects.filter(product_id=product_id, status=Review.Status.APPROVED)
        .annotate(approved_count=Window(Count("id")), approved_average=Window(Avg("rating")))
        .select_related("member__distributor")
        .only(
            "id",
            "rating",
            "title",
            "text",
            "created_at",
            "member__id",
            "member__first_name",
            "member__distributor__id",
            "member__distributor__contact_name",
            "member__distributor__country",
        )
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=ReviewPhoto.objects.only(
                    "id", "review_id", "image", "width", "height", "position"
                ),
            )
        )
        .order_by("-created_at", "-pk")[:limit]
    )
    shown = []
    summary = NO_REVIEWS
    for review in reviews:
        if not shown:
            summary = RatingSummary(
                count=review.approved_count, average=_one_decimal(review.approved_average)
            )
        author, country = _author(review)
        shown.append(
            ReviewView(
                rating=review.rating,
                title=review.title,
                text=review.text,
                created_at=review.created_at,
                author=author,
                country=country,
                photos=tuple(
                    ReviewPhotoView(
                        url=default_storage.url(photo.image.name),
                        width=photo.width,
                        height=photo.height,
                    )
                    for photo in review.photos.all()
                ),
            )
        )
    return summary, shown


def reviews_of(member) -> QuerySet[Review]:
    """The member's own reviews, newest first, with their product and photos."""
    return (
        Review.objects.filter(member=member)
        .select_related("product")
        .prefetch_related("photos")
        .order_by("-created_at", "-pk")
    )


def access_own_review(*, member, review_id: int) -> Review:
    """The member's own review by id; Http404 for anyone else's (or none)."""
    review = None
    if member.is_authenticated:
        review = (
            Review.objects.filter(pk=review_id, member=member).select_related("product").first()
        )
    if review is None:
        raise Http404(_("No such review."))
    return review


def review_of(*, member, product: Product) -> Review | None:
    return Review.objects.filter(member=member, product=product).prefetch_related("photos").first()


# --- Writes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedPhoto:
    content: ContentFile
    width: int
    height: int


def review_photo_prepare(upload) -> PreparedPhoto:
    """The upload checked, upright, scaled down and re-encoded without metadata, ready to
    store. Raises catalog.images.ImageRejected (a ValidationError) for a file we refuse."""
    picture = image_reencode(upload, max_side=PHOTO_MAX_SIDE, jpeg_quality=PHOTO_JPEG_QUALITY)
    return PreparedPhoto(
        content=ContentFile(picture.content, name=f"{secrets.token_hex(8)}.{picture.extension}"),
        width=picture.width,
        height=picture.height,
    )


def _clean_fields(*, rating, title: str, text: str) -> tuple[int, str, str]:
    errors: dict[str, list[str]] = {}
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        errors["rating"] = [_("Choose a rating from 1 to 5 stars.")]
    title = (title or "").strip()
    text = (text or "").strip()
    if len(title) > TITLE_MAX:
        errors["title"] = [
            _("The title may be at most %(limit)s characters long.") % {"limit": TITLE_MAX}
        ]
    if not text:
        errors["text"] = [_("Tell other buyers what you think of the product.")]
    elif len(text) > TEXT_MAX:
        errors["text"] = [
            _("The review may be at most %(limit)s characters long.") % {"limit": TEXT_MAX}
        ]
    for name, value in (("title", title), ("text", text)):
        if _MARKUP.search(value):
            errors.setdefault(name, []).append(
                _("Write plain text: HTML tags such as <script> or <img> are not allowed.")
            )
    if errors:
        raise ValidationError(errors)
    return rating, title, text


def review_save(
    *,
    member,
    product: Product,
    rating,
    title: str,
    text: str,
    photos: Sequence | None = None,
) -> Review:
    """Write the member's review of `product`, or rewrite their earlier one; either way it
    waits for moderation again. New photos replace the earlier ones; none keeps them.

    The caller has checked that the member may review the product. All or nothing: fields and
    every photo are checked before anything is written, and a failure leaves no file behind.
    Raises ValidationError with a message per field ("photos" for the pictures).
    """
    rating, title, text = _clean_fields(rating=rating, title=title, text=text)
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(
            {
                "photos": [
                    _("Add at most %(limit)s photos; you chose %(count)s.")
                    % {"limit": MAX_PHOTOS, "count": len(photos)}
                ]
            }
        )
    prepared = []
    for upload in photos:
        try:
            prepared.append(review_photo_prepare(upload))
        except ValidationError as error:
            name = getattr(upload, "name", "") or _("a photo")
            raise ValidationError(
                {
                    "photos": [
                        _("%(name)s: %(reason)s") % {"name": name, "reason": m}
                        for m in error.messages
                    ]
                }
            ) from None

    written: list[str] = []
    try:
        with transaction.atomic():
            review = (
                Review.objects.select_for_update().filter(member=member, product=product).first()
            )
            shown_before = review is not None and review.status == Review.Status.APPROVED
            if review is None:
                review = Review(member=member, product=product)
            review.rating, review.title, review.text = rating, title, text
            review.status = Review.Status.PENDING
            review.moderated_at = None
            review.moderated_by = None
            try:
                with transaction.atomic():
                    review.save()
            except IntegrityError:
                # The same member's first review of this product, sent twice at once.
                raise ValidationError(
                    _("You have just reviewed this product; open your review to change it.")
                ) from None
            if prepared:
                # Their files go after commit (catalog.signals releases a deleted photo's file).
                review.photos.all().delete()
                for position, photo in enumerate(prepared):
                    row = ReviewPhoto(
                        review=review, width=photo.width, height=photo.height, position=position
                    )
                    row.image.save(photo.content.name, photo.content, save=False)
                    written.append(row.image.name)
                    row.save()
            if shown_before:
                bump_catalog_version()
    except BaseException:
        stored_files_delete(written)
        raise
    return review


def review_moderate(*, reviews: QuerySet[Review], status: str, by) -> int:
    """Approve or reject `reviews` (or put them back to pending), stamping who and when;
    returns how many changed. The catalog's cached pages are retired once this commits, so
    the product pages update."""
    if status not in Review.Status.values:
        raise ValueError(f"not a review status: {status}")
    with transaction.atomic():
        changed = reviews.update(status=status, moderated_at=timezone.now(), moderated_by=by)
        if changed:
            bump_catalog_version()
    return changed


def review_delete(*, review: Review) -> None:
    """Delete a review with its photos (their files go after commit, see catalog.signals)."""
    with transaction.atomic():
        review.delete()
        bump_catalog_version()


def review_photo_files_release(photo: ReviewPhoto) -> None:
    """Delete a review photo's file once the transaction that deleted its row commits.
    Wired to post_delete, so cascades (a deleted review, product or member) clean up too."""
    path = photo.image.name
    if path:
        transaction.on_commit(lambda: stored_files_delete([path]))

"""The exporter's showcase: company pages (about us, factory, certificates, contact) and the
live-chat snippet, as the shop shows them.

Reads (selectors) come from the cache: every shop page shows the links to the published
company pages and the live chat (``shop_chrome``), and the company pages are a handful of rows
(``company_pages_published``). A change to a page, one of its images or the shop settings
drops those values, and retires the catalog's cached whole pages too, since their layout
carries the links and the chat.

Writes (services): a company picture is checked with catalog.images (a real JPEG, PNG, WebP
or GIF, size cap, decompression-bomb guard), then turned upright, scaled to at most
``COMPANY_IMAGE_MAX_SIDE`` and re-encoded, so the stored file carries no metadata (a phone's
GPS position, say) and a phone is not sent a 10 MB photo. Files go when their row goes, or
when a new file replaces them, once the transaction commits.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Prefetch
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import Http404
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from catalog.cache import bump_catalog_version
from catalog.images import image_reencode, stored_files_delete
from wholesale.singleton import SINGLETON_PK, cached, forget

from .models import CompanyPage, CompanyPageImage, ShopSettings

logger = logging.getLogger(__name__)

CHROME_KEY = "staff:shop-chrome"
PAGES_KEY = "staff:company-pages"

COMPANY_IMAGE_MAX_SIDE = 1600
JPEG_QUALITY = 85

# International format: an optional + and the digits of country code and number (E.164 has
# at most 15), nothing else; wa.me wants the digits alone.
WHATSAPP_NUMBER = re.compile(r"\+?[0-9]{7,15}")


# --- Reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyImage:
    url: str
    caption: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class CompanyPageView:
    slug: str
    title: str
    kind: str
    summary: str
    body: str
    images: tuple[CompanyImage, ...]

    @property
    def is_certificates(self) -> bool:
        return self.kind == CompanyPage.Kind.CERTIFICATES

    @property
    def is_contact(self) -> bool:
        return self.kind == CompanyPage.Kind.CONTACT


@dataclass(frozen=True)
class CompanyLink:
    slug: str
    title: str


@dataclass(frozen=True)
class LiveChat:
    whatsapp_digits: str
    embed: str

    @property
    def whatsapp_url(self) -> str:
        return f"https://wa.me/{self.whatsapp_digits}" if self.whatsapp_digits else ""

    @property
    def embed_html(self) -> SafeString:
        # Output as is, scripts included, on purpose: the chat provider's embed code is trusted
        # configuration that only the super admin can set (ShopSettingsAdmin allows no one
        # else), not user data.
        return mark_safe(self.embed)  # noqa: S308


@dataclass(frozen=True)
class ShopChrome:
    """What every shop page shows of the showcase: links to the company pages, the chat."""

    links: tuple[CompanyLink, ...]
    chat: LiveChat | None


def _dimensions(image: CompanyPageImage) -> tuple[int | None, int | None]:
    try:
        return image.image.width, image.image.height
    except (OSError, ValueError):  # the file is missing or unreadable: show it unsized
        logger.warning("cannot read the size of %s", image.image.name, exc_info=True)
        return None, None


def _page_view(page: CompanyPage) -> CompanyPageView:
    images = []
    for image in page.images.all():
        width, height = _dimensions(image)
        images.append(
            CompanyImage(url=image.image.url, caption=image.caption, width=width, height=height)
        )
    return CompanyPageView(
        slug=page.slug,
        title=page.title,
        kind=page.kind,
        summary=page.summary,
        body=page.body,
        images=tuple(images),
    )


def company_pages_published() -> list[CompanyPageView]:
    """The published company pages with their images, in their order. Two queries when cold."""

    def build():
        pages = CompanyPage.objects.filter(is_published=True).prefetch_related(
            Prefetch("images", queryset=CompanyPageImage.objects.order_by("position", "pk"))
        )
        return [_page_view(page) for page in pages]

    return cached(PAGES_KEY, build)


def company_page_published(*, slug: str) -> CompanyPageView:
    """A published company page; an unpublished or unknown one is a 404."""
    for page in company_pages_published():
        if page.slug == slug:
            return page
    raise Http404(_("No such page."))


def live_chat_digits(number: str) -> str:
    return re.sub(r"[^0-9]", "", number or "")


def shop_chrome() -> ShopChrome:
    """Links to the published company pages and the live chat. Two queries when cold."""

    def build():
        links = tuple(
            CompanyLink(slug=slug, title=title)
            for slug, title in CompanyPage.objects.filter(is_published=True).values_list(
                "slug", "title"
            )
        )
        row = (
            ShopSettings.objects.filter(pk=SINGLETON_PK)
            .values("live_chat_whatsapp", "live_chat_embed")
            .first()
        )
        chat = None
        if row:
            chat = LiveChat(
                whatsapp_digits=live_chat_digits(row["live_chat_whatsapp"]),
                embed=row["live_chat_embed"].strip(),
            )
            if not chat.whatsapp_digits and not chat.embed:
                chat = None
        return ShopChrome(links=links, chat=chat)

    return cached(CHROME_KEY, build)


# --- Writes -----------------------------------------------------------------------------------


def whatsapp_number_check(value: str) -> str:
    """The number as stored: + and digits only, or a ValidationError saying how to write it."""
    value = (value or "").strip()
    if value and not WHATSAPP_NUMBER.fullmatch(value):
        raise ValidationError(
            _(
                "Write the number with its country code, using only + and digits "
                "(no spaces or dashes), e.g. +8613800000000."
            ),
            code="whatsapp_number",
        )
    return value


def company_image_prepare(upload) -> ContentFile:
    """The upload checked, upright, scaled down and re-encoded without metadata, as a file to
    store. Raises catalog.images.ImageRejected (a ValidationError) for a file we refuse."""
    picture = image_reencode(upload, max_side=COMPANY_IMAGE_MAX_SIDE, jpeg_quality=JPEG_QUALITY)
    return ContentFile(picture.content, name=f"{secrets.token_hex(8)}.{picture.extension}")


def company_image_add(
    *, page: CompanyPage, upload, caption: str = "", position: int | None = None
) -> CompanyPageImage:
    """Check and store `upload` as a picture of `page` (after its last one by default)."""
    prepared = company_image_prepare(upload)
    with transaction.atomic():
        if position is None:
            highest = page.images.aggregate(highest=Max("position"))["highest"]
            position = 0 if highest is None else highest + 1
        image = CompanyPageImage(page=page, caption=caption, position=position)
        image.image.save(prepared.name, prepared, save=False)
        try:
            image.save()
        except BaseException:
            stored_files_delete([image.image.name])
            raise
    return image


def _delete_after_commit(path: str) -> None:
    if path:
        transaction.on_commit(lambda: stored_files_delete([path]))


# --- Receivers (connected by staff.apps) ------------------------------------------------------


def _pages_changed(sender, **kwargs):
    forget(CHROME_KEY, PAGES_KEY)
    # The catalog's whole-page cache holds the layout, and with it the links.
    bump_catalog_version()


def _images_changed(sender, **kwargs):
    forget(PAGES_KEY)


def _shop_settings_changed(sender, **kwargs):
    forget(CHROME_KEY)
    bump_catalog_version()


def _image_file_released(sender, instance, **kwargs):
    # Wired to post_delete: a page deleted takes its images along, and their files.
    _delete_after_commit(instance.image.name)


def _image_file_replaced(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    previous = (
        CompanyPageImage.objects.filter(pk=instance.pk).values_list("image", flat=True).first()
    )
    if previous and previous != instance.image.name:
        _delete_after_commit(previous)


def showcase_receivers_connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(_pages_changed, sender=CompanyPage, dispatch_uid="staff.showcase.pages")
        signal.connect(
            _images_changed, sender=CompanyPageImage, dispatch_uid="staff.showcase.images"
        )
        signal.connect(
            _shop_settings_changed, sender=ShopSettings, dispatch_uid="staff.showcase.settings"
        )
    post_delete.connect(
        _image_file_released, sender=CompanyPageImage, dispatch_uid="staff.showcase.file_release"
    )
    pre_save.connect(
        _image_file_replaced, sender=CompanyPageImage, dispatch_uid="staff.showcase.file_replace"
    )

"""Product pictures: checking an upload, re-encoding it without metadata, and its renditions.

Only Pillow is used. An upload is refused, before anything is written, when it is too big,
not a JPEG, PNG, WebP or GIF (an SVG, a text file renamed ``.jpg``), damaged, a decompression
bomb (its header claims more pixels than ``WHOLESALE_IMAGE_MAX_PIXELS``; the size is read
before any pixel is decoded) or too small to show. An accepted picture is turned upright from
its EXIF orientation and re-encoded, which drops every piece of metadata (EXIF, GPS position,
camera serial, comments, colour profile): the stored original is our re-encoding, never the
uploaded bytes. Each rendition in ``WHOLESALE_IMAGE_RENDITIONS`` is written as WebP and JPEG,
never larger than the original.
"""

from __future__ import annotations

import io
import logging
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import Product, ProductImage

logger = logging.getLogger(__name__)

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,image/webp,image/gif"

WEBP_QUALITY = 80
JPEG_QUALITY = 85
ORIGINAL_JPEG_QUALITY = 92

# What a broken or hostile file makes Pillow raise while it is read.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


class ImageRejected(ValidationError):
    """An upload we will not store; the message is meant for the person who uploaded it."""


def _upload_size(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        position = upload.tell()
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
        upload.seek(position)
    return size


def _not_an_image() -> ImageRejected:
    return ImageRejected(
        _("This file is not a JPEG, PNG, WebP or GIF image. Upload a picture in one of those."),
        code="not_an_image",
    )


def _too_many_pixels() -> ImageRejected:
    return ImageRejected(
        _("This image has too many pixels; images may have at most %(limit)s megapixels."),
        code="too_many_pixels",
        params={"limit": settings.WHOLESALE_IMAGE_MAX_PIXELS // 1_000_000},
    )


def _damaged() -> ImageRejected:
    return ImageRejected(
        _("This image is damaged or incomplete and cannot be read."), code="damaged"
    )


def _check_header(probe: Image.Image) -> None:
    if probe.format not in ACCEPTED_FORMATS:
        raise _not_an_image()
    width, height = probe.size
    if width * height > settings.WHOLESALE_IMAGE_MAX_PIXELS:
        raise _too_many_pixels()
    if min(width, height) < settings.WHOLESALE_IMAGE_MIN_SIDE:
        raise ImageRejected(
            _(
                "This image is %(width)s×%(height)s pixels; each side must be at least "
                "%(minimum)s pixels."
            ),
            code="too_small",
            params={
                "width": width,
                "height": height,
                "minimum": settings.WHOLESALE_IMAGE_MIN_SIDE,
            },
        )


def _open_checked(upload) -> Image.Image:
    """Return the upload decoded (first frame), or raise ImageRejected saying why not."""
    size = _upload_size(upload)
    if size > settings.WHOLESALE_IMAGE_MAX_BYTES:
        raise ImageRejected(
            _("This file is %(size)s; images may be at most %(limit)s."),
            code="too_large",
            params={
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.WHOLESALE_IMAGE_MAX_BYTES),
            },
        )
    if size == 0:
        raise _not_an_image()
    # Read once into memory (the size is bounded above): Pillow closes the file it decoded.
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check only warns below twice its limit; make it refuse.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Image.open reads the header only; the pixel count is checked before decoding.
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
                _check_header(probe)
                probe.verify()
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            try:
                image.load()
            except BaseException:
                image.close()
                raise
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise _not_an_image() from None
    except _DECODE_ERRORS:
        raise _damaged() from None
    return image


def validate_image_upload(upload) -> None:
    """Raise ImageRejected unless `upload` is a picture we accept. Stores nothing."""
    _open_checked(upload).close()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _clean_copy(image: Image.Image) -> Image.Image:
    """The picture upright, as RGB or RGBA, with no metadata left to write out."""
    try:
        upright = ImageOps.exif_transpose(image)
        clean = upright.convert("RGBA" if _has_alpha(upright) else "RGB")
    except _DECODE_ERRORS:
        raise _damaged() from None
    clean.info = {}
    return clean


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled so its longest side is `longest`, never enlarged."""
    width, height = size
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _as_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    # JPEG has no transparency: lay the picture on white, not on the black convert() gives.
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _encode(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    if image_format == "WEBP":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    elif image_format == "JPEG":
        _as_rgb(image).save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        raise ValueError(f"no encoder settings for {image_format}")
    return buffer.getvalue()


def _encode_original(image: Image.Image, source_format: str) -> tuple[bytes, str]:
    """Photos stay JPEG; drawings (PNG, GIF) and anything transparent become PNG."""
    buffer = io.BytesIO()
    if image.mode == "RGB" and source_format in ("JPEG", "WEBP"):
        image.save(buffer, "JPEG", quality=ORIGINAL_JPEG_QUALITY, optimize=True)
        return buffer.getvalue(), "jpg"
    image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue(), "png"


def stored_files_delete(paths: Iterable[str]) -> None:
    """Remove files from the storage; one that cannot be removed is logged, not raised."""
    for path in paths:
        if not path:
            continue
        try:
            default_storage.delete(path)
        except OSError:
            logger.warning("could not delete %s", path, exc_info=True)


def _image_paths(image: ProductImage) -> list[str]:
    paths = [image.original.name] if image.original else []
    for files in (image.renditions or {}).values():
        paths.extend(files.get(key) for key in ("webp", "jpeg") if files.get(key))
    return paths


def product_image_add(
    *, product: Product, upload, alt_text: str = "", position: int | None = None
) -> ProductImage:
    """Check `upload`, store it re-encoded with its renditions, and return the saved image.

    All or nothing: when anything fails, the files written so far are deleted and the error
    (ImageRejected for a bad upload) propagates.
    """
    decoded = _open_checked(upload)
    try:
        source_format = decoded.format
        picture = _clean_copy(decoded)
    finally:
        decoded.close()

    token = secrets.token_hex(8)
    written: list[str] = []
    try:
        renditions: dict[str, dict] = {}
        source = picture
        # Largest first, each made from the one before: cheaper, and still only downscaling.
        for name, longest in sorted(
            settings.WHOLESALE_IMAGE_RENDITIONS.items(), key=lambda item: -item[1]
        ):
            size = _fit(source.size, longest)
            if size != source.size:
                source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            files = {"width": size[0], "height": size[1]}
            for key, image_format, extension in (("webp", "WEBP", "webp"), ("jpeg", "JPEG", "jpg")):
                path = default_storage.save(
                    f"products/{product.pk}/{name}/{token}.{extension}",
                    ContentFile(_encode(source, image_format)),
                )
                written.append(path)
                files[key] = path
            renditions[name] = files
        renditions = {name: renditions[name] for name in settings.WHOLESALE_IMAGE_RENDITIONS}

        original_bytes, extension = _encode_original(picture, source_format)
        with transaction.atomic():
            if position is None:
                highest = product.images.aggregate(highest=Max("position"))["highest"]
                position = 0 if highest is None else highest + 1
            image = ProductImage(
                product=product, alt_text=alt_text, position=position, renditions=renditions
            )
            image.original.save(f"{token}.{extension}", ContentFile(original_bytes), save=False)
            written.append(image.original.name)
            image.width, image.height = picture.size
            image.save()
    except BaseException:
        stored_files_delete(written)
        raise
    finally:
        picture.close()
    return image


def product_image_delete(*, image: ProductImage) -> None:
    """Delete the image row; its files go once that is committed (see image_files_release)."""
    image.delete()


def image_files_release(image: ProductImage) -> None:
    """Delete an image's files after the transaction that deleted its row commits.

    Wired to post_delete, so cascades (a deleted product) clean up too.
    """
    paths = _image_paths(image)
    transaction.on_commit(lambda: stored_files_delete(paths))


@dataclass(frozen=True)
class Reencoded:
    """An upload turned upright, scaled down and re-encoded without any metadata."""

    content: bytes
    extension: str  # "jpg", or "png" for a picture with transparency
    width: int
    height: int


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def image_reencode(upload, *, max_side: int, jpeg_quality: int) -> Reencoded:
    """Check an upload (validate_image_upload), then turn it upright, scale it to `max_side`
    and re-encode it (JPEG, or PNG when it has transparency), which drops EXIF, GPS and every
    other metadata. Raises ImageRejected for a file we refuse."""
    validate_image_upload(upload)
    upload.seek(0)
    with Image.open(io.BytesIO(upload.read()), formats=ACCEPTED_FORMATS) as decoded:
        upright = ImageOps.exif_transpose(decoded)
        alpha = _has_alpha(upright)
        picture = upright.convert("RGBA" if alpha else "RGB")
    upload.seek(0)
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    picture.info = {}
    buffer = io.BytesIO()
    if alpha:
        picture.save(buffer, "PNG", optimize=True)
    else:
        picture.save(buffer, "JPEG", quality=jpeg_quality, optimize=True, progressive=True)
    width, height = picture.size
    picture.close()
    return Reencoded(buffer.getvalue(), "png" if alpha else "jpg", width, height)

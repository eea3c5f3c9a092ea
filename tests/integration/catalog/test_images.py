"""B5 uploads: what product_image_add refuses, and what it stores when it accepts."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from catalog.images import (
    ImageRejected,
    product_image_add,
    product_image_delete,
    validate_image_upload,
)
from catalog.models import ProductImage
from tests.factories import EditorFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file()) if Path(root).exists() else []


def picture_bytes(size=(400, 300), image_format="JPEG", mode="RGB", color=(200, 40, 40), **save):
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, image_format, **save)
    return buffer.getvalue()


def upload(content: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_claiming(width: int, height: int) -> bytes:
    """A small valid PNG whose IHDR header is rewritten to claim width × height pixels."""
    data = bytearray(picture_bytes((120, 120), "PNG", mode="1", color=1))
    # Signature (8), chunk length (4), b"IHDR" (4), then width and height; the CRC follows.
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


def jpeg_with_gps_and_rotation() -> bytes:
    """A 300×200 photo whose EXIF says "rotate 90° clockwise" and carries a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SpyCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 31.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 59.0)
    return picture_bytes((300, 200), exif=exif.tobytes())


def assert_no_metadata(path: Path):
    raw = path.read_bytes()
    assert b"Exif" not in raw
    assert b"SpyCam" not in raw
    with Image.open(path) as image:
        assert "exif" not in image.info
        assert len(image.getexif()) == 0
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)


BAD_UPLOADS = {
    "30 MB file": (
        lambda: upload(picture_bytes() + b"\0" * (30 * 1024 * 1024)),
        "too_large",
    ),
    "text renamed .jpg": (
        lambda: upload(b"Dear buyer,\nthis is not a picture.\n" * 40),
        "not_an_image",
    ),
    "decompression bomb, Pillow's own limit": (
        lambda: upload(png_claiming(100_000, 100_000), "bomb.png", "image/png"),
        "too_many_pixels",
    ),
    "decompression bomb, under Pillow's limit but over ours": (
        lambda: upload(png_claiming(8_000, 8_000), "bomb.png", "image/png"),
        "too_many_pixels",
    ),
    "SVG with a script": (
        lambda: upload(
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="500" '
            b'height="500" onload="alert(1)"><script>alert(document.cookie)</script>'
            b'<rect width="500" height="500"/></svg>',
            "logo.svg",
            "image/svg+xml",
        ),
        "not_an_image",
    ),
    "BMP": (
        lambda: upload(picture_bytes(image_format="BMP"), "a.bmp", "image/bmp"),
        "not_an_image",
    ),
    "truncated JPEG": (
        lambda: upload(picture_bytes((800, 600), quality=95)[:3000]),
        "damaged",
    ),
    "PNG with a broken checksum": (
        lambda: upload(picture_bytes(image_format="PNG")[:-20] + b"\0" * 20, "a.png", "image/png"),
        "damaged",
    ),
    "too small": (lambda: upload(picture_bytes((60, 400))), "too_small"),
    "empty file": (lambda: upload(b""), "not_an_image"),
}


class TestRefusingAnUpload:
    @pytest.mark.parametrize("case", list(BAD_UPLOADS), ids=list(BAD_UPLOADS))
    def test_refuses_with_a_reason_and_stores_nothing(self, media_root, case):
        make_upload, code = BAD_UPLOADS[case]
        product = ProductFactory()

        with pytest.raises(ImageRejected) as refused:
            product_image_add(product=product, upload=make_upload())

        assert refused.value.code == code
        assert str(refused.value.messages[0])
        assert not ProductImage.objects.exists()
        assert stored_files(media_root) == []

    @pytest.mark.parametrize("case", list(BAD_UPLOADS), ids=list(BAD_UPLOADS))
    def test_validation_alone_gives_the_same_answer(self, media_root, case):
        make_upload, code = BAD_UPLOADS[case]
        with pytest.raises(ImageRejected) as refused:
            validate_image_upload(make_upload())
        assert refused.value.code == code

    def test_the_messages_say_what_is_wrong(self, media_root):
        product = ProductFactory()
        with pytest.raises(ImageRejected) as too_large:
            product_image_add(product=product, upload=BAD_UPLOADS["30 MB file"][0]())
        assert "at most 10.0\xa0MB" in too_large.value.messages[0]
        with pytest.raises(ImageRejected) as svg:
            product_image_add(product=product, upload=BAD_UPLOADS["SVG with a script"][0]())
        assert "JPEG, PNG, WebP or GIF" in svg.value.messages[0]

    def test_a_failure_while_storing_removes_the_files_already_written(
        self, media_root, monkeypatch
    ):
        product = ProductFactory()

        def broken_save(*args, **kwargs):
            raise RuntimeError("database went away")

        monkeypatch.setattr(ProductImage, "save", broken_save)
        with pytest.raises(RuntimeError):
            product_image_add(product=product, upload=upload(picture_bytes((900, 700))))

        assert stored_files(media_root) == []


class TestTooManyFilesInOnePost:
    def test_is_a_400_and_stores_nothing(self, client, media_root, settings):
        client.force_login(EditorFactory())
        files = {
            f"images-{n}-upload": upload(picture_bytes((120, 120)), f"p{n}.jpg") for n in range(101)
        }
        assert len(files) > settings.DATA_UPLOAD_MAX_NUMBER_FILES

        response = client.post("/admin/catalog/product/add/", data={"name": "Bulk", **files})

        assert response.status_code == 400
        assert not ProductImage.objects.exists()
        assert stored_files(media_root) == []


class TestStoringAnUpload:
    def test_makes_webp_and_jpeg_renditions_of_the_configured_sizes(self, media_root, settings):
        product = ProductFactory()

        image = product_image_add(
            product=product, upload=upload(picture_bytes((2000, 1500))), alt_text="Red tee"
        )

        assert (image.width, image.height) == (2000, 1500)
        assert image.alt_text == "Red tee"
        assert set(image.renditions) == set(settings.WHOLESALE_IMAGE_RENDITIONS)
        expected = {"thumb": (240, 180), "medium": (640, 480), "large": (1280, 960)}
        for name, size in expected.items():
            files = image.renditions[name]
            assert (files["width"], files["height"]) == size
            for key, image_format in (("webp", "WEBP"), ("jpeg", "JPEG")):
                assert files[key].startswith(f"products/{product.pk}/{name}/")
                with default_storage.open(files[key]) as stored, Image.open(stored) as picture:
                    assert picture.format == image_format
                    assert picture.size == size
        assert image.original.name.startswith(f"products/{product.pk}/original/")
        # Original, and a WebP and a JPEG per rendition: nothing else on disk.
        assert len(stored_files(media_root)) == 1 + 2 * len(expected)

    def test_never_enlarges_a_small_picture(self, media_root):
        image = product_image_add(
            product=ProductFactory(), upload=upload(picture_bytes((500, 400)))
        )

        sizes = {name: (f["width"], f["height"]) for name, f in image.renditions.items()}
        assert sizes == {"thumb": (240, 192), "medium": (500, 400), "large": (500, 400)}

    def test_turns_the_picture_upright_and_strips_exif_and_gps(self, media_root):
        source = jpeg_with_gps_and_rotation()
        with Image.open(io.BytesIO(source)) as check:  # the fixture really carries GPS
            assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)

        image = product_image_add(product=ProductFactory(), upload=upload(source))

        assert (image.width, image.height) == (200, 300)
        for path in stored_files(media_root):
            assert_no_metadata(path)
        with default_storage.open(image.original.name) as stored, Image.open(stored) as original:
            assert original.format == "JPEG"
            assert original.size == (200, 300)

    def test_keeps_transparency_in_a_png_original_and_flattens_jpeg_on_white(self, media_root):
        buffer = io.BytesIO()
        picture = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
        picture.paste((0, 0, 255, 255), (100, 100, 200, 200))
        picture.save(buffer, "PNG")

        image = product_image_add(
            product=ProductFactory(), upload=upload(buffer.getvalue(), "logo.png", "image/png")
        )

        with default_storage.open(image.original.name) as stored, Image.open(stored) as original:
            assert original.format == "PNG"
            assert original.mode == "RGBA"
        thumb_path = image.renditions["thumb"]["jpeg"]
        with default_storage.open(thumb_path) as stored, Image.open(stored) as thumb:
            assert thumb.mode == "RGB"
            assert thumb.getpixel((2, 2)) == (255, 255, 255)

    def test_accepts_webp_and_gif(self, media_root):
        product = ProductFactory()
        webp = product_image_add(
            product=product,
            upload=upload(picture_bytes(image_format="WEBP"), "a.webp", "image/webp"),
        )
        gif = product_image_add(
            product=product,
            upload=upload(
                picture_bytes(image_format="GIF", mode="P", color=3), "a.gif", "image/gif"
            ),
        )
        assert webp.original.name.endswith(".jpg")
        assert gif.original.name.endswith(".png")

    def test_appends_after_the_last_position(self, media_root):
        product = ProductFactory()
        first = product_image_add(product=product, upload=upload(picture_bytes()))
        second = product_image_add(product=product, upload=upload(picture_bytes()))
        chosen = product_image_add(product=product, upload=upload(picture_bytes()), position=7)
        assert (first.position, second.position, chosen.position) == (0, 1, 7)


class TestDeletingAnImage:
    def test_removes_the_row_and_its_files(self, media_root, django_capture_on_commit_callbacks):
        product = ProductFactory()
        image = product_image_add(product=product, upload=upload(picture_bytes((900, 700))))
        kept = product_image_add(product=product, upload=upload(picture_bytes((900, 700))))
        assert len(stored_files(media_root)) == 14

        with django_capture_on_commit_callbacks(execute=True):
            product_image_delete(image=image)

        assert list(ProductImage.objects.all()) == [kept]
        assert len(stored_files(media_root)) == 7
        assert default_storage.exists(kept.original.name)

    def test_deleting_the_product_removes_its_files_too(
        self, media_root, django_capture_on_commit_callbacks
    ):
        # Never stocked: a product with a stock history is protected from deletion.
        product = ProductFactory(variants__stock=0)
        product_image_add(product=product, upload=upload(picture_bytes((900, 700))))
        assert len(stored_files(media_root)) == 7

        with django_capture_on_commit_callbacks(execute=True):
            product.delete()

        assert stored_files(media_root) == []

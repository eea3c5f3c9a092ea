"""Orders that reached a buyer (or not yet), and pictures good and bad, for the review tests."""

from __future__ import annotations

import io
import itertools
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from orders import lifecycle
from orders.models import OrderState
from tests.factories import StaffFactory, place_order

_tracking = itertools.count(1)


def order_in_state(member, product, state: str):
    """An order of `member` for one unit of `product`'s first variant, moved to `state` through
    the real lifecycle (paid by transfer, shipped with a parcel, then delivered/completed)."""
    order = _order_in_state(member, product, state)
    order.refresh_from_db()
    return order


def _order_in_state(member, product, state: str):
    staff = StaffFactory()
    variant = product.variants.order_by("position").first()
    order = place_order(member, {variant: 60})  # above the minimum order amount
    if state == OrderState.PENDING_PAYMENT:
        return order
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=staff, reference="REF")
    if state == OrderState.PAID:
        return order
    lifecycle.shipment_add(
        order_id=order.pk, carrier="DHL", tracking_number=f"TN{next(_tracking)}", by=staff
    )
    if state == OrderState.SHIPPED:
        return order
    lifecycle.order_transition(order_id=order.pk, to_state=OrderState.DELIVERED, by=staff)
    if state == OrderState.DELIVERED:
        return order
    lifecycle.order_transition(order_id=order.pk, to_state=state, by=staff)
    return order


def picture_bytes(size=(400, 300), image_format="JPEG", mode="RGB", color=(200, 40, 40), **save):
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, image_format, **save)
    return buffer.getvalue()


def photo(content: bytes | None = None, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content or picture_bytes(), content_type=content_type)


def jpeg_with_gps() -> bytes:
    """A 300×200 photo whose EXIF carries a camera name and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 31.0)
    return picture_bytes((300, 200), exif=exif.tobytes())


def png_claiming(width: int, height: int) -> bytes:
    """A small valid PNG whose header claims width × height pixels (a decompression bomb)."""
    data = bytearray(picture_bytes((120, 120), "PNG", mode="1", color=1))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

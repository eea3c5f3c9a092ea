"""Demo showcase for ``manage.py seed_demo``: four company pages (about us, factory with
photos, certificates as a grid, contact) and a WhatsApp number for the live chat.

Idempotent: a page is made, with its pictures, only when its address is not taken, and the
shop settings only when there are none, so a second run writes nothing and an edit made in
the admin is kept. The pictures are drawn with Pillow and stored through the same checks as
an upload.
"""

from __future__ import annotations

import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from wholesale.singleton import SINGLETON_PK

from .models import CompanyPage, ShopSettings
from .showcase import company_image_add

DEMO_WHATSAPP = "+8613800000000"
SEED = 20240611

PAGES = [
    {
        "slug": "about-us",
        "title": "About us",
        "kind": CompanyPage.Kind.ABOUT,
        "summary": "A family-run maker of bags and apparel in Ningbo, exporting since 2009.",
        "body": (
            "We design and make canvas bags, tees and accessories for shops, web stores and "
            "marketplace sellers in more than forty countries.\n\n"
            "Order mixed sizes and colours from one carton, with prices that drop as your "
            "order grows. Samples ship in three days; most orders leave within a week.\n\n"
            "Your own salesperson answers in your time zone, by email or WhatsApp."
        ),
        "pictures": [],
    },
    {
        "slug": "factory",
        "title": "Our factory",
        "kind": CompanyPage.Kind.FACTORY,
        "summary": "12,000 m² of cutting, sewing, printing and packing under one roof.",
        "body": (
            "Four sewing lines and two screen-printing lines turn out 20,000 pieces a week.\n\n"
            "Every carton is checked against the order before it is sealed, and a photo of "
            "it goes to your salesperson."
        ),
        "pictures": [("Sewing line", (46, 110, 160)), ("Packing and quality check", (160, 96, 40))],
    },
    {
        "slug": "certificates",
        "title": "Certificates",
        "kind": CompanyPage.Kind.CERTIFICATES,
        "summary": "Audited every year; copies on request.",
        "body": "Our certificates and test reports, renewed every year.",
        "pictures": [("ISO 9001:2015", (11, 110, 79)), ("OEKO-TEX Standard 100", (90, 60, 150))],
        "certificate": True,
    },
    {
        "slug": "contact",
        "title": "Contact us",
        "kind": CompanyPage.Kind.CONTACT,
        "summary": "Questions, quotes and samples: we reply within one working day.",
        "body": (
            "Demo Export Co., Ltd.\nNo. 1 Export Road\nNingbo, China\n\n"
            "Send us an inquiry with the form, or chat with us on WhatsApp."
        ),
        "pictures": [],
    },
]


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (AttributeError, OSError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _picture(title: str, colour: tuple[int, int, int], *, certificate: bool, rng) -> bytes:
    """A factory photo (blocks for machines and shelves) or a certificate (a framed page)."""
    width, height = (600, 800) if certificate else (960, 640)
    image = Image.new("RGB", (width, height), (250, 250, 247) if certificate else colour)
    draw = ImageDraw.Draw(image)
    if certificate:
        draw.rectangle([20, 20, width - 20, height - 20], outline=colour, width=12)
        draw.ellipse([width // 2 - 70, height - 260, width // 2 + 70, height - 120], fill=colour)
        draw.text((width // 2, 140), title, font=_font(40), fill=colour, anchor="mm")
        for row in range(8):
            y = 240 + row * 36
            draw.line([80, y, width - 80 - rng.randint(0, 140), y], fill=(170, 170, 170), width=6)
    else:
        floor = tuple(min(255, c + 60) for c in colour)
        draw.rectangle([0, height * 2 // 3, width, height], fill=floor)
        for _ in range(6):
            w, h = rng.randint(90, 200), rng.randint(80, 180)
            x, y = rng.randint(20, width - w - 20), height * 2 // 3 - h + rng.randint(0, 60)
            draw.rounded_rectangle([x, y, x + w, y + h], radius=10, fill=(235, 235, 230))
        draw.text((24, height - 60), title, font=_font(36), fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def showcase_seed_demo() -> dict[str, int]:
    """Make the demo company pages and live chat that are missing; returns what was made."""
    made = {"company pages": 0, "company pictures": 0, "shop settings": 0}
    taken = set(
        CompanyPage.objects.filter(slug__in=[p["slug"] for p in PAGES]).values_list(
            "slug", flat=True
        )
    )
    for position, spec in enumerate(PAGES):
        if spec["slug"] in taken:
            continue
        rng = random.Random(f"{SEED}:{spec['slug']}")  # noqa: S311 - demo pictures
        with transaction.atomic():
            page = CompanyPage.objects.create(
                slug=spec["slug"],
                title=spec["title"],
                kind=spec["kind"],
                summary=spec["summary"],
                body=spec["body"],
                position=position,
                is_published=True,
            )
            made["company pages"] += 1
            for index, (caption, colour) in enumerate(spec["pictures"]):
                content = _picture(
                    caption, colour, certificate=spec.get("certificate", False), rng=rng
                )
                upload = SimpleUploadedFile(
                    f"{spec['slug']}-{index}.jpg", content, content_type="image/jpeg"
                )
                company_image_add(page=page, upload=upload, caption=caption, position=index)
                made["company pictures"] += 1
    _settings, created = ShopSettings.objects.get_or_create(
        pk=SINGLETON_PK, defaults={"live_chat_whatsapp": DEMO_WHATSAPP}
    )
    made["shop settings"] += int(created)
    return made

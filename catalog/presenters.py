"""What the storefront's hot pages show, prepared in Python.

The catalog list shows 24 cards and the home page 16; rendering each through nested template
includes, loops over renditions and per-card translation tags costs more than the database.
Cards and pictures are therefore prepared here as small values with their text already
translated and formatted, and the templates only place them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.translation import gettext as _

from wholesale.money import Money, format_money

from .models import Product, ProductImage

CARD_SIZES = "(min-width: 1024px) 280px, (min-width: 720px) 33vw, 50vw"


@dataclass(frozen=True, slots=True)
class Picture:
    src: str
    width: int
    height: int
    webp_srcset: str
    jpeg_srcset: str
    large_src: str
    alt: str


@dataclass(frozen=True, slots=True)
class Card:
    url: str
    name: str
    price: str | None
    facts: str
    picture: Picture | None


def picture(image: ProductImage, *, size: str, alt: str) -> Picture | None:
    renditions = image.renditions or {}
    chosen = renditions.get(size)
    if not chosen:
        return None
    base = default_storage.url("")

    def url(name: str) -> str:
        # Rendition names are ours (product id, a hash, a size): no quoting needed, and one
        # join per page instead of urljoin() per file, which showed up in profiles.
        return base + name

    ordered = sorted(renditions.values(), key=lambda r: r["width"])
    return Picture(
        src=url(chosen["jpeg"]),
        width=chosen["width"],
        height=chosen["height"],
        webp_srcset=", ".join(f"{url(r['webp'])} {r['width']}w" for r in ordered),
        jpeg_srcset=", ".join(f"{url(r['jpeg'])} {r['width']}w" for r in ordered),
        large_src=url(renditions.get("large", chosen)["jpeg"]),
        alt=image.alt_text or alt,
    )


def product_cards(products: Iterable[Product], *, show_prices: bool) -> list[Card]:
    """Cards for products fetched with their images prefetched (see selectors)."""
    currency = settings.WHOLESALE_BASE_CURRENCY
    cards = []
    for product in products:
        images = product.images.all()
        price = None
        if show_prices and product.price_from is not None:
            price = _("from %(price)s") % {
                "price": format_money(Money(product.price_from, currency))
            }
        facts = _("MOQ %(moq)s") % {"moq": product.moq}
        if product.made_to_order:
            facts = f"{facts} · {_('made to order')}"
        cards.append(
            Card(
                url=reverse("catalog:product", args=[product.slug]),
                name=product.name,
                price=price,
                facts=facts,
                picture=picture(images[0], size="medium", alt=product.name) if images else None,
            )
        )
    return cards

"""Favorites (the wishlist): a member keeps products to find and order again.

Services (`favorite_add`, `favorite_remove`) change a member's list and are idempotent: saving
a saved product or removing one that is not saved changes nothing and is no error. Only a
product that exists can be named (an unknown id is a 404), and only one on sale can be added;
a favorite whose product was later withdrawn stays listed, marked, until the member removes it.

Selectors read: `favorite_product_ids` for the catalog's "♥ Saved" marks, `favorites_page`
for the favorites page (a fixed three queries however long the list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from catalog import presenters
from catalog.models import Product, ProductImage, Variant
from catalog.selectors import (
    StockState,
    prices_visible_to,
    product_name_in_language,
    stock_state,
)

from .models import Favorite

_PRODUCT_HEAVY = ("product__search_document", "product__description")


def _on_sale(product: Product) -> bool:
    return product.is_published and product.price_from is not None


def favorite_product_for(product_id: int) -> Product:
    """The product on sale that may be saved as a favorite; Http404 for an unknown id or a
    product not on sale (a draft, not yet published, unpriced)."""
    product = (
        Product.objects.published()
        .filter(pk=product_id)
        .only("pk", "name", "slug", "status", "published_at", "price_from")
        .first()
    )
    if product is None or product.price_from is None:
        raise Http404(_("No such product on sale."))
    return product


def favorite_is_saved(*, member, product_id: int) -> bool:
    return Favorite.objects.filter(member=member, product_id=product_id).exists()


def favorite_add(*, member, product_id: int) -> bool:
    """Save a product on sale to the member's favorites; True if it was not saved yet.

    Http404 (nothing saved) for an unknown product or one not on sale.
    """
    product = favorite_product_for(product_id)
    # get_or_create retries its read when a concurrent request inserted the row first, so a
    # double click saves the product once and neither request fails.
    _favorite, created = Favorite.objects.get_or_create(member=member, product=product)
    return created


def favorite_remove(*, member, product_id: int) -> bool:
    """Remove a product from the member's favorites; True if it was there.

    Http404 for a product id that does not exist. A product no longer on sale can be removed.
    """
    if not Product.objects.filter(pk=product_id).exists():
        raise Http404(_("No such product."))
    deleted, _rows = Favorite.objects.filter(member=member, product_id=product_id).delete()
    return bool(deleted)


def favorite_product_ids(member) -> list[int]:
    """The ids of the products the member saved, newest first; empty for guests."""
    if not member.is_authenticated:
        return []
    return list(Favorite.objects.filter(member=member).values_list("product_id", flat=True))


@dataclass(frozen=True)
class FavoriteItem:
    product_id: int
    slug: str
    card: presenters.Card  # name, link, "from" price (when the member sees prices), MOQ
    on_sale: bool
    stock: StockState
    added_at: datetime


def favorites_page(member) -> list[FavoriteItem]:
    """The member's favorites for their page, newest first, with price and stock to show.

    Three queries: the favorites with their products, the products' images and their active
    variants (for the stock).
    """
    favorites = list(
        Favorite.objects.filter(member=member)
        .annotate(local_name=product_name_in_language("product_id"))
        .select_related("product")
        .defer(*_PRODUCT_HEAVY)
        .prefetch_related(
            Prefetch(
                "product__images",
                queryset=ProductImage.objects.only(
                    "id", "product_id", "position", "renditions", "alt_text"
                ),
            ),
            Prefetch(
                "product__variants",
                queryset=Variant.objects.filter(is_active=True).only("id", "product_id", "stock"),
            ),
        )
    )
    products = [favorite.product for favorite in favorites]
    for favorite in favorites:
        # Product.localized_name reads it: the name in the page's language, if translated.
        favorite.product.translated_name = favorite.local_name
    cards = presenters.product_cards(products, show_prices=prices_visible_to(member))
    return [
        FavoriteItem(
            product_id=product.pk,
            slug=product.slug,
            card=card,
            on_sale=_on_sale(product),
            stock=stock_state(product, list(product.variants.all())),
            added_at=favorite.created_at,
        )
        for favorite, product, card in zip(favorites, products, cards, strict=True)
    ]

"""What the storefront's hot pages show, prepared in Python.

The catalog list shows 24 cards and the home page 16; rendering each through nested template
includes, loops over renditions and per-card translation tags costs more than the database.
Cards and pictures are therefore prepared here as small values with their text already
translated and formatted, and the templates only place them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from wholesale.currencies import format_display
from wholesale.money import Money, quantize

from .audience import MemberDiscount
from .models import Product, ProductImage
from .reviews import NO_REVIEWS, rating_summaries, stars_html

CURRENT = mark_safe(' class="current" aria-current="page"')  # a constant, no data in it
CARD_SIZES = "(min-width: 1024px) 280px, (min-width: 720px) 33vw, 50vw"


@dataclass(frozen=True, slots=True)
class Picture:
    src: str
    width: int
    height: int
    webp_srcset: str
    jpeg_srcset: str
    alt: str


@dataclass(frozen=True, slots=True)
class Card:
    url: str
    name: str
    price: str | None
    facts: str
    picture: Picture | None
    rating: str = ""  # stars and review count (safe HTML), "" without reviews
    product_id: int = 0  # for the "♡ Save" button (favorite_buttons)


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
        alt=image.alt_text or alt,
    )


def product_cards(
    products: Iterable[Product], *, show_prices: bool, discount: MemberDiscount | None = None
) -> list[Card]:
    """Cards for products fetched with their images prefetched (see selectors), named in the
    language they were fetched in. With the member's level `discount`, the card shows their
    price beside the list price."""
    currency = settings.WHOLESALE_BASE_CURRENCY
    # reverse() costs as much as the rest of a card; resolve the pattern once per page.
    url_pattern = reverse("catalog:product", args=["__slug__"])
    from_label = _("from %(price)s")
    # Translators: "from $4.20 · Gold $3.99": the list price, then the member's level price.
    member_label = _("%(price)s · %(level)s %(own)s")
    moq_label = _("MOQ %(moq)s")
    made_to_order = _("made to order")
    cards = []
    products = list(products)
    ratings = rating_summaries(product.pk for product in products)  # one query for the page
    for product in products:
        images = product.images.all()
        price = None
        if show_prices and product.price_from is not None:
            price = from_label % {"price": format_display(Money(product.price_from, currency))}
            if discount is not None:
                own = product.price_from * (100 - discount.percent) / 100
                price = member_label % {
                    "price": price,
                    "level": discount.level_name,
                    "own": format_display(Money(quantize(own, currency), currency)),
                }
        facts = moq_label % {"moq": product.moq}
        if product.made_to_order:
            facts = f"{facts} · {made_to_order}"
        name = product.localized_name
        cards.append(
            Card(
                url=url_pattern.replace("__slug__", product.slug),
                name=name,
                price=price,
                facts=facts,
                picture=picture(images[0], size="medium", alt=name) if images else None,
                rating=stars_html(ratings.get(product.pk, NO_REVIEWS)),
                product_id=product.pk,
            )
        )
    return cards


def picture_html(pic: Picture, *, sizes: str, loading: str) -> SafeString:
    return format_html(
        '<picture><source type="image/webp" srcset="{}" sizes="{}">'
        '<img src="{}" srcset="{}" sizes="{}" alt="{}" width="{}" height="{}" loading="{}"'
        ' decoding="async"></picture>',
        pic.webp_srcset,
        sizes,
        pic.src,
        pic.jpeg_srcset,
        sizes,
        pic.alt,
        pic.width,
        pic.height,
        loading,
    )


@dataclass(frozen=True, slots=True)
class GalleryItem:
    src: str  # the large JPEG, for the thumbnail's link
    main: SafeString
    thumb: SafeString


def product_gallery(images: Iterable[ProductImage], *, alt: str) -> list[GalleryItem]:
    """The product page's pictures: each as the main picture and as a thumbnail."""
    items = []
    for image in images:
        large = picture(image, size="large", alt=alt)
        thumb = picture(image, size="thumb", alt=alt)
        if large is None or thumb is None:
            continue
        items.append(
            GalleryItem(
                src=large.src,
                main=picture_html(large, sizes="(min-width: 720px) 50vw, 100vw", loading="eager"),
                thumb=picture_html(thumb, sizes="64px", loading="lazy"),
            )
        )
    return items


def card_grid_html(cards: list[Card], *, show_prices: bool) -> SafeString:
    """The grid of product cards, built with format_html (every value escaped).

    A page shows up to 24 cards; as a template loop they cost more than the page's queries,
    as format_html calls a small fraction of that.
    """
    no_photo = format_html("<span>{}</span>", _("No photo yet"))
    login_to_see = format_html(
        '<p class="login-to-see">{}</p>', _("Log in to see wholesale prices")
    )

    save = favorite_buttons()

    def items():
        for card in cards:
            if card.picture:
                thumb = picture_html(card.picture, sizes=CARD_SIZES, loading="lazy")
            else:
                thumb = no_photo
            if not show_prices:
                price = login_to_see
            elif card.price:
                price = format_html('<p class="price">{}</p>', card.price)
            else:
                price = ""
            yield (card.url, thumb, card.name, card.rating, price, card.facts, save(card))

    return format_html(
        '<ul class="grid">{}</ul>{}',
        format_html_join(
            "\n",
            '<li class="card"><a href="{}"><div class="thumb">{}</div><div class="body">'
            '<h3 class="name">{}</h3>{}{}<p class="muted">{}</p></div></a>{}</li>',
            items(),
        ),
        favorites_script(),
    )


# The "♡ Save" button of members' favorites. The grid is cached and shared, so the button is
# the same for every visitor: a GET form to a confirmation page, which static/js/favorites.js
# turns into a POST and marks "♥ Saved" for a logged-in member (see members.favorites_views).
_FAVORITE_FORM = (
    '<form method="get" action="{}" class="favorite-form" data-favorite="{}"'
    ' data-remove-url="{}" style="margin: 0; padding: 0 10px 10px">'
    '<input type="hidden" name="next" value="{}">'
    '<button type="submit" class="link favorite-button" aria-pressed="false"'
    ' data-saved-label="{}">{}</button></form>'
)


def favorite_buttons() -> Callable[[Card], SafeString]:
    """A function giving a card's "♡ Save" button, its URLs resolved once per grid."""
    sentinel = "987654321"
    add = reverse("members:favorite_add", args=[sentinel])
    remove = reverse("members:favorite_remove", args=[sentinel])
    save, saved = _("♡ Save"), _("♥ Saved")

    def button(card: Card) -> SafeString:
        pk = str(card.product_id)
        return format_html(
            _FAVORITE_FORM,
            add.replace(sentinel, pk),
            pk,
            remove.replace(sentinel, pk),
            card.url,
            saved,
            save,
        )

    return button


def favorites_script() -> SafeString:
    return format_html(
        '<script src="{}" defer data-ids-url="{}" data-csrf-cookie="{}"></script>',
        static("js/favorites.js"),
        reverse("members:favorite_ids"),
        settings.CSRF_COOKIE_NAME,
    )


def category_links(nodes, *, current, term: str) -> SafeString:
    """The category filter of the catalog list, indented by depth, keeping the search term."""
    suffix = f"&q={quote(term)}" if term else ""
    current_id = current.id if current is not None else None
    return format_html_join(
        "\n",
        '<li style="padding-left: {}em"><a href="?category={}{}"{}>{}</a></li>',
        (
            (
                node.depth,
                node.slug,
                suffix,
                CURRENT if node.id == current_id else "",
                node.name,
            )
            for node in nodes
        ),
    )

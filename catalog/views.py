from dataclasses import dataclass

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.backends.utils import csrf_input
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wholesale import seo
from wholesale.currencies import display_key

from . import presenters, selectors, services
from .audience import MemberDiscount, member_discount, member_price
from .cache import (
    cached_count,
    cached_fragment,
    fragment_key,
    page_key,
    page_read,
    page_write,
    stock_key,
)
from .translations import content_language

MAX_PAGE = 10_000
CSRF_MARKER = "<!--wholesale:csrf-->"


class CountedPaginator(Paginator):
    """A paginator told its count, so it does not run COUNT(*) itself."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


@dataclass(frozen=True)
class Audience:
    """Who a catalog page is rendered for, as far as its cached content differs.

    Guests never get the order form (it posts to their cart), so a guest page can be shared.
    A member whose level gives a discount sees their own price beside the list price: members
    of one level share pages, and no other member is shown them.
    """

    show_prices: bool
    order_form: bool
    discount: MemberDiscount | None = None

    @property
    def key(self) -> str:
        if not self.show_prices:
            return "no-prices"
        if self.discount is not None:
            return f"prices-member-{self.discount.key}"
        return "prices-member" if self.order_form else "prices-guest"


def _audience(request) -> Audience:
    show_prices = selectors.prices_visible_to(request.user)
    member = show_prices and request.user.is_authenticated
    return Audience(show_prices, member, member_discount(request.user) if member else None)


def _member_prices(rows, discount: MemberDiscount | None) -> dict:
    """{tier's first quantity: the member's price} for a tier table."""
    if discount is None:
        return {}
    return {row.min_quantity: member_price(row.unit_price, discount.percent) for row in rows}


def _currency(request) -> str:
    return display_key()


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise Http404(_("No such page.")) from None
    if not 1 <= number <= MAX_PAGE:
        raise Http404(_("No such page."))
    return number


def _is_plain_visitor(request) -> bool:
    """No session and no pending messages: every such visitor is shown exactly the same page."""
    return (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def _render_cached(
    request,
    *,
    name,
    template,
    build_context,
    page_template="catalog/page.html",
    extra_key=None,
):
    """Render a catalog page whose main column is `template`, from the page cache when possible.

    Plain visitors (guests without a session: most first visits, crawlers, ads traffic) get the
    whole page from the cache. Everyone else gets the cached main column inside a freshly
    rendered layout, which carries their name, their CSRF token and their messages.
    `extra_key` names one more version the page depends on (a product's stock version).
    Returns the page's metadata (title, product id, result count) and the response.
    """
    audience = _audience(request)
    key_parts = {
        "path": request.get_full_path(),
        "audience": audience.key,
        "currency": _currency(request),
    }
    whole_page_key = (
        page_key(name=name, country=str(getattr(request, "country", "")), **key_parts)
        if _is_plain_visitor(request)
        else None
    )
    cached_page, version = page_read(whole_page_key, extra_key)
    if cached_page is not None:
        response = HttpResponse(cached_page["body"])
        patch_vary_headers(response, ("Cookie",))
        return cached_page["meta"], response

    def build():
        context = build_context(audience)
        html = render_to_string(template, context, request=None)
        return {"html": html, **context.get("page_meta", {})}

    fragment = cached_fragment(fragment_key(name=name, extra_key=extra_key, **key_parts), build)
    html = fragment["html"]
    if CSRF_MARKER in html:
        # Forms inside a shared fragment get this visitor's token at response time.
        html = html.replace(CSRF_MARKER, str(csrf_input(request)))
    response = render(
        request,
        page_template,
        {
            "fragment": mark_safe(html),  # noqa: S308 - our own rendered template
            "title": fragment.get("title", ""),
            "meta_description": fragment.get("description", ""),
            "og_type": fragment.get("og_type", ""),
            "og_image": fragment.get("image", ""),
            "robots": fragment.get("robots", ""),
            "canonical_query": fragment.get("canonical_query", ""),
            "search_term": request.GET.get("q", "")[: settings.WHOLESALE_SEARCH_MAX_LENGTH],
        },
    )
    meta = {k: v for k, v in fragment.items() if k != "html"}
    # A page that embeds a CSRF token belongs to one visitor; never share it.
    if whole_page_key and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        page_write(whole_page_key, version=version, body=response.content, meta=meta)
    return meta, response


@require_GET
def home(request):
    def build(audience):
        show_prices = audience.show_prices
        new_arrivals = presenters.product_cards(
            selectors.new_arrivals(limit=8), show_prices=show_prices, discount=audience.discount
        )
        best_sellers = presenters.product_cards(
            selectors.best_sellers(limit=8), show_prices=show_prices, discount=audience.discount
        )
        return {
            "show_prices": show_prices,
            "new_arrivals": new_arrivals,
            "new_arrivals_grid": presenters.card_grid_html(new_arrivals, show_prices=show_prices),
            "best_sellers": best_sellers,
            "best_sellers_grid": presenters.card_grid_html(best_sellers, show_prices=show_prices),
            "categories": [n for n in selectors.category_tree() if n.depth == 0],
            "page_meta": seo.home_meta(),
        }

    _fragment, response = _render_cached(
        request, name="home", template="catalog/_home.html", build_context=build
    )
    return response


@require_GET
def product_list(request):
    term = selectors.normalise_term(request.GET.get("q", ""))
    category_slug = request.GET.get("category", "")
    category = selectors.category_by_slug(category_slug) if category_slug else None
    sort = request.GET.get("sort", "")
    if sort not in selectors.SORTS and not (term and sort == selectors.RELEVANCE):
        sort = selectors.RELEVANCE if term else "newest"
    number = _page_number(request)

    def build(audience):
        show_prices = audience.show_prices
        if term:
            qs = selectors.product_search(term=term, category=category, sort=sort)
        else:
            qs = selectors.product_list(category=category, sort=sort)
        # A search matches in the page's language too (its stemming): count it per language.
        language = (content_language() or "") if term else ""
        scope = f"{term}|{category.id if category else ''}|{language}"
        paginator = CountedPaginator(
            qs,
            settings.WHOLESALE_PAGE_SIZE,
            count=cached_count(scope=scope, count=qs.count),
        )
        try:
            page = paginator.page(number)
        except (EmptyPage, PageNotAnInteger):
            if number == 1:
                page = paginator.page(1) if paginator.count else None
            else:
                raise Http404(_("No such page.")) from None
        if term:
            title = _("Search: %(term)s") % {"term": term}
        elif category is not None:
            title = category.name
        else:
            title = _("All products")
        sorts = [(key, label) for key, (label, _order) in selectors.SORTS.items()]
        if term:
            sorts.insert(0, (selectors.RELEVANCE, _("Relevance")))
        products = list(page.object_list) if page else []
        cards = presenters.product_cards(
            products, show_prices=show_prices, discount=audience.discount
        )
        return {
            "show_prices": show_prices,
            "page": page,
            "products": products,
            "grid": presenters.card_grid_html(cards, show_prices=show_prices),
            "category_links": presenters.category_links(
                selectors.category_tree(), current=category, term=term
            ),
            "count": paginator.count,
            "term": term,
            "category": category,
            "trail": selectors.category_trail(category.id) if category else [],
            "sort": sort,
            "sorts": sorts,
            "page_meta": {
                **seo.listing_meta(
                    title=title,
                    count=paginator.count,
                    number=number,
                    term=term,
                    category=category.name if category else "",
                    category_slug=category.slug if category else "",
                    category_description=category.description if category else "",
                ),
                "count": paginator.count,
            },
        }

    fragment, response = _render_cached(
        request, name="list", template="catalog/_list.html", build_context=build
    )
    if term and number == 1:
        services.search_record(request=request, term=term, results=fragment.get("count", 0))
    return response


@require_GET
def product_detail(request, slug):
    def build(audience):
        show_prices = audience.show_prices
        page = selectors.product_page(slug=slug)
        product = page.product
        pictures = presenters.product_gallery(page.images, alt=product.localized_name)
        return {
            "show_prices": show_prices,
            "p": page,
            "pictures": pictures,
            "product": product,
            "variant_prices": selectors.variant_prices(page) if show_prices else {},
            "member_discount": audience.discount,
            "member_prices": _member_prices(page.tier_rows, audience.discount)
            if show_prices
            else {},
            "order_form": audience.order_form,
            "csrf_marker": mark_safe(CSRF_MARKER),  # noqa: S308 - a constant comment
            "page_meta": {
                **seo.product_meta(
                    name=product.localized_name,
                    category=page.trail[-1].name if page.trail else "",
                    description=product.localized_description,
                    moq=product.moq,
                    price_from=product.price_from if show_prices else None,
                    image=pictures[0].src if pictures else "",
                ),
                "product_id": product.pk,
            },
        }

    fragment, response = _render_cached(
        request,
        name="product",
        template="catalog/_product.html",
        build_context=build,
        extra_key=stock_key(slug),
    )
    services.product_view_record(request=request, product_id=fragment["product_id"])
    return response

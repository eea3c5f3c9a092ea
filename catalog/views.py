from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import selectors, services
from .cache import cached_fragment, fragment_key

MAX_PAGE = 10_000


def _audience(request) -> tuple[bool, str]:
    show_prices = selectors.prices_visible_to(request.user)
    # Member levels will add their discount here; until then all price-seeing members agree.
    return show_prices, "prices" if show_prices else "no-prices"


def _currency(request) -> str:
    return settings.WHOLESALE_BASE_CURRENCY


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise Http404(_("No such page.")) from None
    if not 1 <= number <= MAX_PAGE:
        raise Http404(_("No such page."))
    return number


def _render_cached(request, *, name, template, build_context, page_template="catalog/page.html"):
    """Render `template` as the page's main column, from the catalog cache when possible."""
    show_prices, audience = _audience(request)
    key = fragment_key(
        name=name,
        path=request.get_full_path(),
        audience=audience,
        currency=_currency(request),
    )

    def build():
        context = build_context(show_prices)
        html = render_to_string(template, context, request=None)
        return {"html": html, **context.get("page_meta", {})}

    fragment = cached_fragment(key, build)
    return (
        fragment,
        render(
            request,
            page_template,
            {
                "fragment": mark_safe(fragment["html"]),  # noqa: S308 - our own rendered template
                "title": fragment.get("title", ""),
                "meta_description": fragment.get("description", ""),
                "search_term": request.GET.get("q", "")[: settings.WHOLESALE_SEARCH_MAX_LENGTH],
            },
        ),
    )


@require_GET
def home(request):
    def build(show_prices):
        return {
            "show_prices": show_prices,
            "new_arrivals": selectors.new_arrivals(limit=8),
            "best_sellers": selectors.best_sellers(limit=8),
            "categories": [n for n in selectors.category_tree() if n.depth == 0],
            "page_meta": {"title": _("Wholesale direct from the factory")},
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

    def build(show_prices):
        if term:
            qs = selectors.product_search(term=term, category=category, sort=sort)
        else:
            qs = selectors.product_list(category=category, sort=sort)
        paginator = Paginator(qs, settings.WHOLESALE_PAGE_SIZE)
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
        return {
            "show_prices": show_prices,
            "page": page,
            "products": page.object_list if page else [],
            "count": paginator.count,
            "term": term,
            "category": category,
            "trail": selectors.category_trail(category.id) if category else [],
            "categories": selectors.category_tree(),
            "sort": sort,
            "sorts": sorts,
            "page_meta": {"title": title, "count": paginator.count},
        }

    fragment, response = _render_cached(
        request, name="list", template="catalog/_list.html", build_context=build
    )
    if term and number == 1:
        services.search_record(request=request, term=term, results=fragment.get("count", 0))
    return response


@require_GET
def product_detail(request, slug):
    def build(show_prices):
        page = selectors.product_page(slug=slug)
        product = page.product
        return {
            "show_prices": show_prices,
            "p": page,
            "product": product,
            "variant_prices": selectors.variant_prices(page) if show_prices else {},
            "page_meta": {
                "title": product.name,
                "description": product.description[:160],
                "product_id": product.pk,
            },
        }

    fragment, response = _render_cached(
        request, name="product", template="catalog/_product.html", build_context=build
    )
    services.product_view_record(request=request, product_id=fragment["product_id"])
    return response

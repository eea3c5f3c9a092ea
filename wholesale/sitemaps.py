"""sitemap.xml: the public pages in every language, each with its hreflang alternates.

/sitemap.xml is an index of sections (/sitemap-<section>.xml, paged with ?p=); every URL is
listed once per language of settings.LANGUAGES (Django's i18n sitemaps), with the other
languages and x-default as alternates. Only what anyone may see: the home page, the catalog,
the active categories, the published products and the published company pages; nothing of a
buyer's own (account, cart, checkout).

Addresses are on the shop's public address (WHOLESALE_SITE_URL, else the request's host), as
the pages' canonical links are (wholesale.seo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Paginator
from django.db.models import Max
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from catalog.models import Product
from catalog.selectors import category_tree
from staff.models import CompanyPage

from .seo import site_root

# Products per sitemap page: each is listed in every language with every language as an
# alternate, so a page of 500 holds 3,500 URLs (about 3 MB), far below the protocol's
# 50,000 URLs and 50 MB, and renders in well under a second.
PRODUCTS_PER_PAGE = 500


@dataclass(frozen=True)
class _PublicSite:
    domain: str


class _LanguagePairs(Sequence):
    """The (row, language) pairs Django's i18n sitemap pages through, read a page at a time.

    Django builds the list of pairs from every row for every page it serves; for 20,000
    products that would be all of them, seven times, to show 500.
    """

    def __init__(self, queryset, languages: list[str]):
        self.queryset = queryset
        self.languages = languages
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = self.queryset.count()
        return self._count * len(self.languages)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            row, offset = divmod(index, len(self.languages))
            return self.queryset[row], self.languages[offset]
        start, stop, _step = index.indices(len(self))
        n = len(self.languages)
        first = start // n
        rows = self.queryset[first : -(-stop // n)]
        pairs = [(row, language) for row in rows for language in self.languages]
        offset = start - first * n
        return pairs[offset : offset + max(stop - start, 0)]


class _I18nSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True

    def __init__(self, root: str = ""):
        self.root = root

    def get_urls(self, page=1, site=None, protocol=None):
        if self.root:
            protocol, _sep, domain = self.root.partition("://")
            site = _PublicSite(domain)
        return super().get_urls(page=page, site=site, protocol=protocol)


class PagesSitemap(_I18nSitemap):
    changefreq = "daily"

    def items(self):
        return ["catalog:home", "catalog:list", "staff:company_index", "staff:contact"]

    def location(self, item):
        return reverse(item)


class CategorySitemap(_I18nSitemap):
    changefreq = "daily"

    def items(self):
        return category_tree()

    def location(self, item):
        return f"{reverse('catalog:list')}?category={item.slug}"


class ProductSitemap(_I18nSitemap):
    changefreq = "weekly"

    def __init__(self, root: str = ""):
        super().__init__(root)
        self._patterns: dict[str, str] = {}

    def items(self):
        return Product.objects.published().only("slug", "updated_at").order_by("pk")

    @property
    def paginator(self):
        languages = self._languages()
        return Paginator(
            _LanguagePairs(self.items(), languages), PRODUCTS_PER_PAGE * len(languages)
        )

    def location(self, item):
        # reverse() per URL would dominate a page of 3,500: resolve the pattern once a language.
        language = get_language()
        pattern = self._patterns.get(language)
        if pattern is None:
            pattern = reverse("catalog:product", args=["__slug__"])
            self._patterns[language] = pattern
        return pattern.replace("__slug__", item.slug)

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        return Product.objects.published().aggregate(latest=Max("updated_at"))["latest"]


class CompanySitemap(_I18nSitemap):
    changefreq = "monthly"

    def items(self):
        return (
            CompanyPage.objects.filter(is_published=True)
            .only("slug", "updated_at")
            .order_by("position", "pk")
        )

    def location(self, item):
        return reverse("staff:company_page", kwargs={"slug": item.slug})

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        return CompanyPage.objects.filter(is_published=True).aggregate(latest=Max("updated_at"))[
            "latest"
        ]


SECTIONS = {
    "pages": PagesSitemap,
    "categories": CategorySitemap,
    "products": ProductSitemap,
    "company": CompanySitemap,
}


def _sitemaps(request) -> dict[str, Sitemap]:
    root = site_root(request)
    return {name: cls(root) for name, cls in SECTIONS.items()}


@require_safe
@sitemap_views.x_robots_tag
def sitemap_index(request):
    """Django's index view names the request's host; this one the shop's public address."""
    entries = []
    for section, site in _sitemaps(request).items():
        location = site_root(request) + reverse("sitemap_section", kwargs={"section": section})
        lastmod = site.get_latest_lastmod()
        entries.append(sitemap_views.SitemapIndexItem(location, lastmod))
        for page in range(2, site.paginator.num_pages + 1):
            entries.append(sitemap_views.SitemapIndexItem(f"{location}?p={page}", lastmod))
    return TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml"
    )


@require_safe
def sitemap_section(request, section):
    return sitemap_views.sitemap(request, sitemaps=_sitemaps(request), section=section)

"""The company pages in the shop, and the context processor that puts the showcase (links to
the company pages, the live chat) into every shop page's layout."""

from __future__ import annotations

from functools import cache

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from . import showcase


def shop_showcase(request):
    """`showcase` for the layout: read (from the cache) only when a template shows it, so the
    admin's pages, which do not, pay nothing."""

    @cache
    def chrome() -> showcase.ShopChrome:
        return showcase.shop_chrome()

    return {"showcase": chrome}


def _contact_url() -> str:
    # The inquiry form lives in staff.inquiry_views; a tree without it shows no button.
    try:
        return reverse("staff:contact")
    except NoReverseMatch:
        return ""


@require_safe
def company_index(request):
    pages = showcase.company_pages_published()
    return render(request, "staff/company_index.html", {"pages": pages})


@require_safe
def company_page(request, slug):
    page = showcase.company_page_published(slug=slug)
    return render(
        request,
        "staff/company_page.html",
        {
            "page": page,
            "contact_url": _contact_url() if page.is_contact else "",
            "meta_description": page.summary,
        },
    )

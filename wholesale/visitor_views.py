"""The language and "Ship to" switchers (wholesale.visitor).

A guest's catalog pages are cached whole and shared, so their switcher forms carry no CSRF
token: a guest's choice changes only their own cookie or session, and forging it gains
nothing. A member's pages are their own and their forms carry the token, which is checked: a
member's language is saved to their profile.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import visitor


def csrf_refusal(request):
    """The CSRF failure response for a member's form without a valid token, else None (a
    guest's choice needs no token: see the module's docstring)."""
    if not request.user.is_authenticated:
        return None
    return CsrfViewMiddleware(lambda _request: None).process_view(request, None, (), {})


def next_url(request) -> str:
    """Where to go back to: the form's `next`, else the referring page, if it is ours."""
    for candidate in (request.POST.get("next"), request.META.get("HTTP_REFERER")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "/"


@csrf_exempt
@require_POST
def set_language(request):
    """Django's set_language (the language cookie, and `next` in the new language), limited to
    the shop's languages; a member's choice is also saved as their preferred language."""
    refusal = csrf_refusal(request)
    if refusal is not None:
        return refusal
    language = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "")
    if language not in visitor.shop_languages():
        messages.error(request, _("Choose one of the languages offered."))
        return HttpResponseRedirect(next_url(request))
    if request.user.is_authenticated:
        visitor.member_language_save(member=request.user, language=language)
    # Django translates `next` by resolving it, which works only in the language it is in:
    # /es/catalog/ is a page while Spanish is active, not while English (this URL's) is.
    shown = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    with translation.override(
        translation.get_language_from_path(urlsplit(str(shown)).path) or settings.LANGUAGE_CODE
    ):
        return i18n.set_language(request)


@csrf_exempt
@require_POST
def set_country(request):
    """The "Ship to" country, kept in the visitor's session."""
    refusal = csrf_refusal(request)
    if refusal is not None:
        return refusal
    if not visitor.country_choose(request, request.POST.get("country", "")):
        messages.error(request, _("Choose one of the countries offered."))
    return HttpResponseRedirect(next_url(request))

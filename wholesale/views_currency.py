"""The visitor's choice of currency (wholesale.currencies)."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import currencies


def _next_url(request) -> str:
    """Where to go back to: the form's `next`, else the referring page, if it is ours."""
    for candidate in (request.POST.get("next"), request.META.get("HTTP_REFERER")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "/"


def _csrf_refusal(request):
    """A member's choice is saved to their profile: their form carries a CSRF token and it is
    checked. A guest's pages are cached whole and shared, without a token; their choice
    changes only their own session, so forging it gains nothing."""
    if not request.user.is_authenticated:
        return None
    return CsrfViewMiddleware(lambda _request: None).process_view(request, None, (), {})


@csrf_exempt
@require_POST
def currency_set(request):
    refusal = _csrf_refusal(request)
    if refusal is not None:
        return refusal
    code = str(request.POST.get("currency", ""))[:3].upper()
    if not currencies.currency_choose(request, code):
        messages.error(request, _("Choose one of the currencies offered."))
    return HttpResponseRedirect(_next_url(request))

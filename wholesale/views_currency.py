"""The visitor's choice of currency (wholesale.currencies)."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import currencies
from .visitor_views import csrf_refusal, next_url


@csrf_exempt
@require_POST
def currency_set(request):
    # A member's choice is saved to their profile, so their form's token is checked; a
    # guest's changes only their own session (wholesale.visitor_views).
    refusal = csrf_refusal(request)
    if refusal is not None:
        return refusal
    code = request.POST.get("currency", "").upper()
    if not currencies.currency_choose(request, code):
        messages.error(request, _("Choose one of the currencies offered."))
    return HttpResponseRedirect(next_url(request))

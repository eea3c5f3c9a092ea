import io

import segno
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .models import ReferralVisit
from .referrals import referral_cookie_set, referral_from_request, referral_profiles


@never_cache
@require_safe
def referral(request, code):
    """A salesperson's referral link: count the visit, remember the salesperson in a signed
    cookie (first link wins, see staff.referrals), and go on to the signup page or to a local
    ``?next=`` page."""
    profile = get_object_or_404(referral_profiles(), referral_code=code)
    ReferralVisit.objects.create(sales_profile=profile)
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("account_signup")
    response = HttpResponseRedirect(target)
    if referral_from_request(request) is None:
        referral_cookie_set(response, request, profile)
    return response


@require_safe
def referral_qr(request, code):
    """The referral link as a QR code (SVG), for a salesperson's trade-show cards and flyers.
    The link is public, so the picture is too; it only changes with the shop's address."""
    profile = get_object_or_404(referral_profiles(), referral_code=code)
    link = request.build_absolute_uri(reverse("staff:referral", args=[profile.referral_code]))
    svg = io.BytesIO()
    segno.make(link, error="m").save(svg, kind="svg", scale=8, border=4, xmldecl=False, title=link)
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Disposition"] = f'inline; filename="referral-{profile.referral_code}.svg"'
    return response

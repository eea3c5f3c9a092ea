"""The referral cookie: which salesperson's link a visitor came through.

Rule for a visitor who follows a second salesperson's link before signing up: the FIRST link
wins while its cookie lives (``WHOLESALE_REFERRAL_COOKIE_DAYS``). The salesperson who first
brought the buyer (a trade-show card, their own outreach) did the work; with "last link wins" a
colleague could take the customer over by sending their own link later, and salespeople would
race each other for buyers who are already being looked after. A later link replaces the first
only when the first no longer counts: its cookie expired or was tampered with, or its
salesperson left (no longer an active salesperson).
"""

from django.conf import settings
from django.core import signing

from .models import SalesProfile

COOKIE_NAME = "ws_ref"
COOKIE_SALT = "staff.referral"


def cookie_max_age() -> int:
    return settings.WHOLESALE_REFERRAL_COOKIE_DAYS * 24 * 60 * 60


def referral_profiles():
    """Sales profiles whose referral links work: their user is an active staff member."""
    return SalesProfile.objects.filter(user__is_active=True, user__is_staff=True)


def referral_from_request(request) -> SalesProfile | None:
    """The salesperson whose valid, unexpired referral cookie the request carries, if any."""
    if request is None:
        return None
    try:
        code = request.get_signed_cookie(
            COOKIE_NAME, default=None, salt=COOKIE_SALT, max_age=cookie_max_age()
        )
    except signing.BadSignature:
        return None
    if not code:
        return None
    return referral_profiles().select_related("user").filter(referral_code=code).first()


def referral_cookie_set(response, request, profile: SalesProfile) -> None:
    response.set_signed_cookie(
        COOKIE_NAME,
        profile.referral_code,
        salt=COOKIE_SALT,
        max_age=cookie_max_age(),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )

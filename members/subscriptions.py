"""Subscriptions: the newsletter and new-arrival alerts per category.

Double opt-in: `subscribe()` records the wish and emails a signed confirmation link that
works for three days; nothing is sent to the address until it is confirmed. Every email
carries a one-click unsubscribe link (and the RFC 8058 headers), a signed token that never
expires, so a link in a years-old email still works.

No enumeration (RELIABILITY B9's rule): the page answers the same whether the address is new,
waiting for its confirmation, or already subscribed; an address already subscribed is simply
sent nothing new. Requests are counted per IP, and confirmation emails per address, in the
cache (shared by every process); with the cache down both counts let everything through, like
staff.inquiry_guard: a lost subscriber is worse than a robot slipping past for a while.

The new-arrival job (daily) emails each live alert the products published in its category (and
the categories below it) since its last alert, or since it was confirmed, with a link to build
a product kit of them. Nothing is sent twice to one address about one product: each product
told is written to NewArrivalSent (unique on address and product) in the transaction that
moves `last_sent_at` on under the lock of all the address's alert rows, so neither a second
run, nor an overlapping category, nor subscribing again sends it again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Category, Product
from catalog.selectors import category_tree
from wholesale.outbox import enqueue_on_commit

from .models import NewArrivalSent, Subscription

logger = logging.getLogger(__name__)

CONFIRM_SALT = "members.subscription.confirm"
UNSUBSCRIBE_SALT = "members.subscription.unsubscribe"
Kind = Subscription.Kind


class Outcome(StrEnum):
    DONE = "done"
    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    subscription: Subscription | None = None


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def confirm_max_age() -> int:
    return _setting("WHOLESALE_SUBSCRIPTION_CONFIRM_SECONDS", 3 * 24 * 3600)


def requests_per_hour() -> int:
    return _setting("WHOLESALE_SUBSCRIPTIONS_PER_HOUR", 10)


def confirmations_per_day() -> int:
    return _setting("WHOLESALE_SUBSCRIPTION_EMAILS_PER_ADDRESS", 3)


def alert_product_limit() -> int:
    return _setting("WHOLESALE_NEW_ARRIVALS_ALERT_LIMIT", 20)


def email_normalise(email: str) -> str:
    """Addresses are kept lower-case, as logins are, so one address is one subscriber."""
    return (email or "").strip().lower()


# --- Tokens -----------------------------------------------------------------------------------


def _asked_stamp(subscription: Subscription) -> int:
    # Ties a confirmation link to one request: once unsubscribed and asked for again, the
    # links of the earlier request confirm nothing.
    return int(subscription.created_at.timestamp() * 1_000_000)


def confirm_token(subscription: Subscription) -> str:
    return signing.dumps([subscription.pk, _asked_stamp(subscription)], salt=CONFIRM_SALT)


def _address_digest(email: str) -> str:
    # Binds the token to the address without writing the address into URLs and access logs.
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def unsubscribe_token(subscription: Subscription) -> str:
    payload = [subscription.pk, _address_digest(subscription.email)]
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(payload)


def _confirm_payload(token: str) -> tuple[Outcome, int, int]:
    try:
        pk, stamp = signing.loads(token, salt=CONFIRM_SALT, max_age=confirm_max_age())
        return Outcome.DONE, int(pk), int(stamp)
    except signing.SignatureExpired:
        return Outcome.EXPIRED, 0, 0
    except (signing.BadSignature, TypeError, ValueError):
        return Outcome.INVALID, 0, 0


def _confirmable(queryset, token: str) -> Result:
    outcome, pk, stamp = _confirm_payload(token)
    if outcome is not Outcome.DONE:
        return Result(outcome)
    subscription = queryset.select_related("category").filter(pk=pk).first()
    if (
        subscription is None
        or subscription.unsubscribed_at is not None
        or _asked_stamp(subscription) != stamp
    ):
        return Result(Outcome.INVALID)
    return Result(Outcome.DONE, subscription)


def confirm_token_check(token: str) -> Result:
    """What a confirmation link would do, without doing it (the page before the button)."""
    return _confirmable(Subscription.objects.all(), token)


def subscription_confirm(token: str) -> Result:
    """Confirm the subscription behind `token` (idempotent). A forged, stale or expired token
    changes nothing and says which it was."""
    with transaction.atomic():
        result = _confirmable(Subscription.objects.select_for_update(of=("self",)), token)
        subscription = result.subscription
        if subscription is not None and subscription.confirmed_at is None:
            subscription.confirmed_at = timezone.now()
            subscription.save(update_fields=["confirmed_at"])
            logger.info("Subscription %s confirmed", subscription.pk)
    return result


def _unsubscribed_one(queryset, token: str) -> Subscription | None:
    """The subscription `token` names (None when the row is gone); raises BadSignature."""
    try:
        pk, digest = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
        pk, digest = int(pk), str(digest)
    except (TypeError, ValueError) as error:
        raise signing.BadSignature from error
    found = queryset.select_related("category").filter(pk=pk).first()
    if found is None or _address_digest(found.email) != digest:
        return None
    return found


def unsubscribe_token_check(token: str) -> Result:
    try:
        return Result(Outcome.DONE, _unsubscribed_one(Subscription.objects.all(), token))
    except signing.BadSignature:
        return Result(Outcome.INVALID)


def unsubscribe(token: str) -> Result:
    """End the subscription behind `token`: one click, idempotent, never expiring. A row since
    removed is as good as unsubscribed."""
    with transaction.atomic():
        try:
            locked = Subscription.objects.select_for_update(of=("self",))
            subscription = _unsubscribed_one(locked, token)
        except signing.BadSignature:
            return Result(Outcome.INVALID)
        if subscription is not None and subscription.unsubscribed_at is None:
            _end(subscription)
    return Result(Outcome.DONE, subscription)


def _end(subscription: Subscription) -> None:
    subscription.unsubscribed_at = timezone.now()
    subscription.save(update_fields=["unsubscribed_at"])
    logger.info("Subscription %s ended", subscription.pk)


# --- Counting in the cache --------------------------------------------------------------------


def _count(cache_key: str, window: int) -> int:
    """One more in `cache_key`'s fixed window; 0 with the cache down (nothing is counted)."""
    try:
        cache.add(cache_key, 0, timeout=window)
        try:
            return cache.incr(cache_key)
        except ValueError:  # the window ended between add and incr
            cache.add(cache_key, 1, timeout=window)
            return 1
    except Exception:  # the cache is down (any client error)
        logger.warning("subscription limit skipped: the cache is down", exc_info=True)
        return 0


def subscription_rate_limited(ip: str) -> bool:
    """Count one subscription request from `ip`; True once past the hourly limit."""
    return _count(f"subscribe-rate:ip:{ip}", 3600) > requests_per_hour()


def _confirmation_allowed(email: str) -> bool:
    # Someone typing a stranger's address again and again must not flood that inbox.
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return _count(f"subscribe-mail:{digest}", 24 * 3600) <= confirmations_per_day()


# --- Subscribing ------------------------------------------------------------------------------


def _verified_emails(member) -> QuerySet:
    from allauth.account.models import EmailAddress

    return (
        EmailAddress.objects.filter(user=member, verified=True)
        .annotate(address=Lower("email"))
        .values("address")
    )


def _owns(member, email: str) -> bool:
    return member is not None and _verified_emails(member).filter(address=email).exists()


def subscribe(
    *,
    email: str,
    kind: str,
    category: Category | None = None,
    member=None,
) -> Subscription:
    """Ask for a subscription: a new one, or one unsubscribed before (asked for again), waits
    for its confirmation, whose email goes out after commit; one still waiting has its email
    sent again; a live one is left as it is and sent nothing. A member is linked only to an
    address verified as theirs."""
    email = email_normalise(email)
    validate_email(email)
    kind = Kind(kind)
    if kind == Kind.NEWSLETTER and category is not None:
        raise ValidationError(_("The newsletter is not per category."))
    if kind == Kind.NEW_ARRIVALS and (category is None or not category.is_active):
        raise ValidationError(_("Choose a category for new-arrival alerts."))
    owner = member if member is not None and _owns(member, email) else None
    with transaction.atomic():
        subscription, _created = Subscription.objects.select_for_update().get_or_create(
            email=email, kind=kind, category=category, defaults={"member": owner}
        )
        fields = []
        if owner is not None and subscription.member_id is None:
            subscription.member = owner
            fields.append("member")
        if subscription.unsubscribed_at is not None:
            subscription.created_at = timezone.now()
            subscription.confirmed_at = None
            subscription.unsubscribed_at = None
            subscription.last_sent_at = None
            fields += ["created_at", "confirmed_at", "unsubscribed_at", "last_sent_at"]
        if fields:
            subscription.save(update_fields=fields)
        if subscription.confirmed_at is None and _confirmation_allowed(email):
            _email_later("confirm", subscription_id=subscription.pk)
        elif subscription.confirmed_at is None:
            logger.info("Subscription %s: confirmation not sent again (limit)", subscription.pk)
    return subscription


def _email_later(kind: str, **params) -> None:
    from .tasks import subscription_email_task  # the task module imports the emails

    enqueue_on_commit(subscription_email_task, kind, **params)


# --- A member's own subscriptions -------------------------------------------------------------


def subscriptions_of_member(member) -> QuerySet[Subscription]:
    """The member's subscriptions: linked to them, or to an address verified as theirs."""
    if not member.is_authenticated:
        return Subscription.objects.none()
    return (
        Subscription.objects.filter(Q(member=member) | Q(email__in=_verified_emails(member)))
        .select_related("category")
        .order_by("kind", "category__name", "pk")
    )


def access_member_subscription(member, subscription_id: int) -> Subscription:
    """The member's subscription `subscription_id`, or a 404 (another's id included)."""
    found = subscriptions_of_member(member).filter(pk=subscription_id).first()
    if found is None:
        raise Http404(_("No such subscription."))
    return found


def subscription_end(*, member, subscription_id: int) -> Subscription:
    """A member ends one of their subscriptions from their account page (idempotent)."""
    with transaction.atomic():
        subscription = access_member_subscription(member, subscription_id)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.unsubscribed_at is None:
            _end(subscription)
    return subscription


# --- New-arrival alerts -----------------------------------------------------------------------


def alert_subscriptions_live(*, category_id: int | None = None) -> QuerySet[Subscription]:
    """Confirmed, not unsubscribed new-arrival alerts (of one category with `category_id`)."""
    live = Subscription.objects.filter(
        kind=Kind.NEW_ARRIVALS,
        confirmed_at__isnull=False,
        unsubscribed_at__isnull=True,
        category__is_active=True,
    )
    if category_id is not None:
        live = live.filter(category_id=category_id)
    return live


def new_arrivals_in(*, category_ids, since: datetime, until: datetime) -> QuerySet[Product]:
    """Products published in these categories after `since`, up to `until`, newest first."""
    return (
        Product.objects.published()
        .filter(category_id__in=category_ids, published_at__gt=since, published_at__lte=until)
        .order_by("-published_at", "-pk")
    )


def new_arrivals_alerts_send(*, now: datetime | None = None) -> int:
    """Beat job (daily): queue each live alert the products published in its category tree
    since its last alert that its address has never been told about. Returns how many emails
    were queued; a second run queues none."""
    now = now or timezone.now()
    tree = {node.id: node.descendant_ids for node in category_tree()}
    emails = alert_subscriptions_live().order_by("email").values_list("email", flat=True).distinct()
    return sum(_alerts_for_address(email, now=now, tree=tree) for email in list(emails))


def _alerts_for_address(email: str, *, now: datetime, tree: dict) -> int:
    """One address's alerts, under the lock of all its alert rows (taken in pk order, so two
    runs queue behind each other instead of deadlocking): a product already sent to the
    address, by this run's earlier alert or any before, is left out."""
    queued = 0
    with transaction.atomic():
        subscriptions = list(
            alert_subscriptions_live()
            .filter(email=email)
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        for subscription in subscriptions:
            queued += _alert_one(subscription, now=now, tree=tree)
    return queued


def _alert_one(subscription: Subscription, *, now: datetime, tree: dict) -> int:
    since = subscription.last_sent_at or subscription.confirmed_at
    if subscription.category_id not in tree or since >= now:
        return 0
    already = NewArrivalSent.objects.filter(email=subscription.email).values("product_id")
    limit = alert_product_limit()
    untold = new_arrivals_in(
        category_ids=tree[subscription.category_id], since=since, until=now
    ).exclude(pk__in=already)
    product_ids = list(untold.values_list("pk", flat=True)[: limit + 1])
    count = untold.count() if len(product_ids) > limit else len(product_ids)
    product_ids = product_ids[:limit]
    # The window closes whether or not anything is left to tell: what was published in it
    # beyond the limit is counted in the email, which links to the category page.
    subscription.last_sent_at = now
    subscription.save(update_fields=["last_sent_at"])
    if not product_ids:
        return 0
    NewArrivalSent.objects.bulk_create(
        NewArrivalSent(
            email=subscription.email, product_id=pk, subscription=subscription, sent_at=now
        )
        for pk in product_ids
    )
    _email_later(
        "new_arrivals", subscription_id=subscription.pk, product_ids=product_ids, count=count
    )
    return 1

"""Inquiries and buyer messages: writes and reads.

An inquiry (the contact form, a product's "request a quote", guests included) or a buyer
message (from a signed-in buyer's message pages) is a conversation that lands with one
salesperson: the buyer's own salesperson when the writer is a known customer, else the next one
in turn (staff.services.salesperson_next). The time to the first staff reply is what the boss
measures: `first_reply_at` is set by the first reply and never moved after.

Every write runs in a transaction and locks the conversation's row; emails (to the salesperson
for a new inquiry or message, to the customer for a reply) leave from a Celery task once the
transaction commits (staff.inquiry_emails).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from members.models import Distributor, User

from . import inquiry_emails
from .models import Inquiry, InquiryMessage
from .services import is_salesperson, salesperson_next

State = Inquiry.State
Kind = Inquiry.Kind

MESSAGE_MAX_LENGTH = 5000


# --- Writes -------------------------------------------------------------------------------------


def _owner_of_customer(*, member: User | None, email: str) -> User | None:
    """The salesperson who owns the customer writing: the signed-in member's distributor's
    owner, or for a guest the owner of the distributor with that email (a known customer who
    did not sign in). The email only routes the inquiry; it never shows the guest anything."""
    distributors = Distributor.objects.filter(owner__isnull=False, owner__is_active=True)
    if member is not None:
        distributors = distributors.filter(user=member)
    else:
        distributors = distributors.filter(user__email__iexact=email)
    return User.objects.filter(pk__in=distributors.values("owner_id")).first()


def _body_checked(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write a message."), code="empty")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            _("A message has at most %(n)d characters.") % {"n": MESSAGE_MAX_LENGTH},
            code="too_long",
        )
    return body


@transaction.atomic
def inquiry_create(
    *,
    kind: str = Kind.INQUIRY,
    member: User | None = None,
    name: str,
    email: str,
    subject: str,
    body: str,
    company: str = "",
    country: str = "",
    phone: str = "",
    product: Product | None = None,
) -> Inquiry:
    """Open a conversation with its first message and give it an owner; the owner is emailed.

    A buyer message needs a signed-in member (it is read back on their message pages)."""
    if kind not in Kind.values:
        raise ValueError(f"Unknown inquiry kind: {kind!r}")
    if kind == Kind.MESSAGE and member is None:
        raise ValidationError(_("Log in to send a message."), code="login")
    body = _body_checked(body)
    owner = _owner_of_customer(member=member, email=email) or salesperson_next()
    now = timezone.now()
    inquiry = Inquiry.objects.create(
        kind=kind,
        member=member,
        name=name.strip(),
        email=email.strip(),
        company=company.strip(),
        country=country or "",
        phone=phone.strip(),
        subject=subject.strip(),
        product=product,
        owner=owner,
        created_at=now,
        last_message_at=now,
    )
    message = InquiryMessage.objects.create(
        inquiry=inquiry, author=member, from_staff=False, body=body, created_at=now
    )
    if owner is not None:
        inquiry_emails.send_later("customer_wrote", message_id=message.pk)
    return inquiry


def _locked(inquiry_id: int) -> Inquiry:
    return Inquiry.objects.select_for_update().get(pk=inquiry_id)


@transaction.atomic
def inquiry_message_add(*, inquiry_id: int, member: User, body: str) -> InquiryMessage:
    """The customer writes again in their conversation: it waits for a reply again (a closed
    one reopens), and the owner is emailed. Another member's conversation is a 404."""
    body = _body_checked(body)
    try:
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry_id, member=member)
    except Inquiry.DoesNotExist:
        raise Http404(_("No such conversation.")) from None
    now = timezone.now()
    message = InquiryMessage.objects.create(
        inquiry=inquiry, author=member, from_staff=False, body=body, created_at=now
    )
    inquiry.state = State.NEW
    inquiry.last_message_at = now
    inquiry.save(update_fields=["state", "last_message_at"])
    if inquiry.owner_id is not None:
        inquiry_emails.send_later("customer_wrote", message_id=message.pk)
    return message


@transaction.atomic
def inquiry_reply(*, inquiry_id: int, by: User, body: str) -> InquiryMessage:
    """A staff reply: the conversation is answered, the customer is emailed, and the first
    reply's time is kept (later replies do not move it). Whether `by` may reply is the
    caller's check (the admin's scoping)."""
    body = _body_checked(body)
    inquiry = _locked(inquiry_id)
    now = timezone.now()
    message = InquiryMessage.objects.create(
        inquiry=inquiry, author=by, from_staff=True, body=body, created_at=now
    )
    fields = ["state", "last_message_at"]
    if inquiry.first_reply_at is None:
        inquiry.first_reply_at = now
        fields.append("first_reply_at")
    inquiry.state = State.ANSWERED
    inquiry.last_message_at = now
    inquiry.save(update_fields=fields)
    inquiry_emails.send_later("staff_replied", message_id=message.pk)
    return message


@transaction.atomic
def inquiry_close(*, inquiry_id: int, by: User) -> Inquiry:
    """Close a conversation (nothing more to do); the customer writing again reopens it."""
    inquiry = _locked(inquiry_id)
    if inquiry.state != State.CLOSED:
        inquiry.state = State.CLOSED
        inquiry.save(update_fields=["state"])
        _log(inquiry, by=by, message=_("Closed."))
    return inquiry


@transaction.atomic
def inquiry_reassign(*, inquiry_id: int, to_owner: User, by: User) -> Inquiry:
    """Give a conversation to another salesperson (the manager's decision); recorded in the
    admin's history (LogEntry) with who from and who to, and the new owner is emailed about
    the customer's latest message."""
    if not is_salesperson(to_owner):
        raise ValidationError(_("Conversations go to an active salesperson."), code="owner")
    inquiry = _locked(inquiry_id)
    if inquiry.owner_id == to_owner.pk:
        return inquiry
    previous = inquiry.owner
    inquiry.owner = to_owner
    inquiry.save(update_fields=["owner"])
    _log(
        inquiry,
        by=by,
        message=_("Salesperson: %(old)s → %(new)s.")
        % {"old": _person(previous) if previous else "–", "new": _person(to_owner)},
    )
    latest = inquiry.messages.filter(from_staff=False).order_by("-created_at", "-pk").first()
    if latest is not None:
        inquiry_emails.send_later("customer_wrote", message_id=latest.pk)
    return inquiry


def _person(user: User) -> str:
    return user.get_full_name() or user.email


def _log(inquiry: Inquiry, *, by: User, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[inquiry],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


# --- Reads --------------------------------------------------------------------------------------


def inquiries_of_member(*, member: User) -> QuerySet[Inquiry]:
    """A buyer's conversations, most recent first, each with its message count and product."""
    # A correlated count rather than a join and GROUP BY, so the paginator's COUNT stays plain.
    counted = (
        InquiryMessage.objects.filter(inquiry=OuterRef("pk"))
        .order_by()
        .values("inquiry")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return (
        Inquiry.objects.filter(member=member)
        .select_related("product")
        .annotate(message_total=Subquery(counted, output_field=IntegerField()))
        .order_by("-last_message_at", "-pk")
    )


def access_member_inquiry(*, member: User, inquiry_id: int) -> Inquiry:
    """The member's own conversation, or a 404 (never another member's)."""
    inquiry = (
        Inquiry.objects.filter(pk=inquiry_id, member=member)
        .select_related("product", "owner")
        .first()
    )
    if inquiry is None:
        raise Http404(_("No such conversation."))
    return inquiry


def inquiry_messages(*, inquiry: Inquiry) -> list[InquiryMessage]:
    return list(inquiry.messages.select_related("author").order_by("created_at", "pk"))


class Median(Aggregate):
    """PostgreSQL's median of a duration (an ordered-set aggregate)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


_REPLY_TIME = ExpressionWrapper(F("first_reply_at") - F("created_at"), output_field=DurationField())


@dataclass(frozen=True)
class ReplyTimes:
    """Time to first reply over a set of conversations (one salesperson's, or a scope's)."""

    answered: int
    waiting: int
    average: timedelta | None
    median: timedelta | None
    owner_id: int | None = None
    owner_name: str = ""


def _median_by_group(queryset: QuerySet, group: str | None) -> dict:
    """Medians per group where the database has no median (SQLite, the laptop demo): one
    query over the answered conversations' reply times, the median taken in Python."""
    durations: dict = {}
    rows = queryset.filter(first_reply_at__isnull=False).annotate(_reply=_REPLY_TIME)
    for key, reply in rows.values_list(group or "pk", "_reply"):
        durations.setdefault(key if group else None, []).append(reply)
    return {key: statistics.median(values) for key, values in durations.items()}


def _reply_aggregates(median_supported: bool) -> dict:
    answered = Q(first_reply_at__isnull=False)
    aggregates = {
        "answered": Count("pk", filter=answered),
        "waiting": Count("pk", filter=~answered & ~Q(state=State.CLOSED)),
        "average": Avg(_REPLY_TIME, filter=answered),
    }
    if median_supported:
        aggregates["median"] = Median(_REPLY_TIME, filter=answered)
    return aggregates


def reply_times_by_salesperson(*, queryset: QuerySet[Inquiry] | None = None) -> list[ReplyTimes]:
    """Average and median time to first reply per salesperson, over `queryset` (all
    conversations by default; the admin passes its scoped, filtered list): one query on
    PostgreSQL. Conversations without an owner form a row of their own."""
    queryset = (Inquiry.objects.all() if queryset is None else queryset).order_by()
    median_supported = connection.vendor == "postgresql"
    rows = list(
        queryset.values("owner")
        .annotate(
            owner_first=Max("owner__first_name"),
            owner_last=Max("owner__last_name"),
            owner_email=Max("owner__email"),
            **_reply_aggregates(median_supported),
        )
        .order_by("owner__first_name", "owner__last_name", "owner")
    )
    medians = {} if median_supported else _median_by_group(queryset, "owner")
    return [
        ReplyTimes(
            owner_id=row["owner"],
            owner_name=f"{row['owner_first'] or ''} {row['owner_last'] or ''}".strip()
            or (row["owner_email"] or ""),
            answered=row["answered"],
            waiting=row["waiting"],
            average=row["average"],
            median=row["median"] if median_supported else medians.get(row["owner"]),
        )
        for row in rows
    ]


def reply_times(*, queryset: QuerySet[Inquiry] | None = None) -> ReplyTimes:
    """Average and median time to first reply over all of `queryset`, in one query."""
    queryset = (Inquiry.objects.all() if queryset is None else queryset).order_by()
    median_supported = connection.vendor == "postgresql"
    row = queryset.aggregate(**_reply_aggregates(median_supported))
    median = row["median"] if median_supported else _median_by_group(queryset, None).get(None)
    return ReplyTimes(
        answered=row["answered"], waiting=row["waiting"], average=row["average"], median=median
    )


def duration_text(value: timedelta | None) -> str:
    """A reply time for people: "2 d 3 h", "3 h 20 min", "12 min", "40 s"."""
    if value is None:
        return "–"
    seconds = max(int(value.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min") % {"m": minutes}
    return _("%(s)d s") % {"s": seconds}


# --- Demo data ----------------------------------------------------------------------------------


def inquiries_seed_demo() -> int:
    """Demo conversations for `seed_demo`: buyer1's message to sales1, answered; a second one
    from buyer1 still waiting; a guest's quote request assigned to sales2. Idempotent (found by
    email and subject); written directly, so seeding sends no email and takes nobody's turn.
    Returns how many were created."""
    users = {u.email: u for u in User.objects.filter(email__in=_DEMO_PEOPLE)}
    if len(users) < len(_DEMO_PEOPLE):
        return 0
    buyer1, sales1, sales2 = (users[email] for email in _DEMO_PEOPLE)
    distributor = Distributor.objects.filter(user=buyer1).first()
    product = Product.objects.published().order_by("pk").first()
    now = timezone.now()
    demo = [
        {
            "kind": Kind.MESSAGE,
            "member": buyer1,
            "name": buyer1.get_full_name() or buyer1.email,
            "email": buyer1.email,
            "company": distributor.company_name if distributor else "",
            "country": distributor.country if distributor else "",
            "subject": "Samples before a bulk order",
            "owner": sales1,
            "messages": [
                (
                    False,
                    3 * 24,
                    "Hello Lily, could you send two samples of each colour before we place "
                    "a bulk order? We would pay the freight.",
                ),
                (
                    True,
                    3 * 24 - 2,
                    "Hi Olivia, yes of course. I will add the samples to a draft order so you "
                    "can pay the freight online; they leave within three days.",
                ),
            ],
        },
        {
            "kind": Kind.MESSAGE,
            "member": buyer1,
            "name": buyer1.get_full_name() or buyer1.email,
            "email": buyer1.email,
            "company": distributor.company_name if distributor else "",
            "country": distributor.country if distributor else "",
            "subject": "Private label packaging",
            "owner": sales1,
            "messages": [
                (
                    False,
                    5,
                    "Can you print our logo on the bags? What is the minimum quantity?",
                ),
            ],
        },
        {
            "kind": Kind.INQUIRY,
            "member": None,
            "name": "Maria Rossi",
            "email": "maria@boutique-rossi.example",
            "company": "Boutique Rossi",
            "country": "IT",
            "phone": "+39 02 1234 5678",
            "subject": f"Quote request: {product.name}" if product else "Quote request",
            "product": product,
            "owner": sales2,
            "messages": [
                (
                    False,
                    20,
                    "We run two shops in Milan. What is your price for 300 pieces, shipped "
                    "to Italy?",
                ),
            ],
        },
    ]
    created = 0
    with transaction.atomic():
        for fields in demo:
            messages = fields.pop("messages")
            if Inquiry.objects.filter(email=fields["email"], subject=fields["subject"]).exists():
                continue
            opened = now - timedelta(hours=messages[0][1])
            last = now - timedelta(hours=messages[-1][1])
            replies = [hours for from_staff, hours, _body in messages if from_staff]
            inquiry = Inquiry.objects.create(
                **fields,
                state=State.ANSWERED if messages[-1][0] else State.NEW,
                created_at=opened,
                last_message_at=last,
                first_reply_at=now - timedelta(hours=replies[0]) if replies else None,
            )
            InquiryMessage.objects.bulk_create(
                InquiryMessage(
                    inquiry=inquiry,
                    author=fields["owner"] if from_staff else fields["member"],
                    from_staff=from_staff,
                    body=body,
                    created_at=now - timedelta(hours=hours),
                )
                for from_staff, hours, body in messages
            )
            created += 1
    return created


_DEMO_PEOPLE = ("buyer1@demo.test", "sales1@demo.test", "sales2@demo.test")

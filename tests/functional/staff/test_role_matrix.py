"""RELIABILITY A1: the role × admin page matrix, with the demo accounts.

Every registered admin is walked (index, app index, changelist, add, change, delete, history)
plus every custom page (order actions, dispute, share, follow-up, transfer), as each role of
DESIGN.md, a distributor and an anonymous visitor, on an object each role owns or was handed
and on one it was not. The expected answer comes from the table below, which is DESIGN.md's
roles table written per admin; a model registered without a row fails the test, so a new admin
cannot escape the matrix. Run with -s for the figure.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog.models import Category, Product, Review, StockMovement
from members.models import Address, Distributor, Level
from members.points import points_adjust, points_rules
from orders import lifecycle
from orders.models import Cart, Payment, ShippingMethod, ShippingZone, WebhookEvent
from staff import disputes, roles
from staff.grants import access_grant, grants_expire
from staff.models import (
    AccessGrant,
    CompanyPage,
    Dispute,
    FollowUpTemplate,
    Inquiry,
    SalesProfile,
    ShopSettings,
)
from tests.factories import ProductFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db

User = get_user_model()

ALL, VIEW, SCOPED, NONE = "all", "view", "scoped", "none"
STAFF_ROLES = ("admin", "manager", "finance", "sales1", "service", "editor")
ACCOUNTS_ONLY = (ALL, NONE, NONE, NONE, NONE, NONE)
CATALOG = (ALL, ALL, VIEW, VIEW, VIEW, ALL)
CUSTOMERS = (ALL, ALL, VIEW, SCOPED, SCOPED, NONE)
# Address books and carts: customer service works from the order handed to them instead.
CUSTOMER_RECORDS = (ALL, ALL, VIEW, SCOPED, NONE, NONE)

# What each role may do per admin, in the order of STAFF_ROLES (DESIGN.md "Roles"): ALL is
# whatever the admin lets the super admin do; VIEW is looking only; SCOPED is their own
# (sales) or handed-over (customer service) objects only; NONE is no page at all.
TABLE = {
    "catalog.category": CATALOG,
    "catalog.product": CATALOG,
    "catalog.stockmovement": CATALOG,
    # Reviews are moderated by whoever looks after the catalog's content.
    "catalog.review": (ALL, ALL, NONE, NONE, NONE, ALL),
    "members.distributor": CUSTOMERS,
    "members.address": CUSTOMER_RECORDS,
    "orders.cart": CUSTOMER_RECORDS,
    "orders.order": (ALL, ALL, ALL, SCOPED, SCOPED, NONE),
    "orders.payment": (ALL, VIEW, ALL, NONE, NONE, NONE),
    "orders.webhookevent": (ALL, VIEW, ALL, NONE, NONE, NONE),
    # Shipping templates are the shop's configuration: the manager runs them.
    "orders.shippingzone": (ALL, ALL, NONE, NONE, NONE, NONE),
    "orders.shippingmethod": (ALL, ALL, NONE, NONE, NONE, NONE),
    "orders.paymentsettings": ACCOUNTS_ONLY,
    "orders.countrypaymentmethods": ACCOUNTS_ONLY,
    # ERP export profiles: the manager runs them; their run log is read-only.
    "orders.exportprofile": (ALL, ALL, NONE, NONE, NONE, NONE),
    "orders.exportrun": (ALL, VIEW, NONE, NONE, NONE, NONE),
    "members.pointsrules": ACCOUNTS_ONLY,
    "orders.trackingrun": (ALL, VIEW, NONE, NONE, NONE, NONE),
    # The jobs' schedule: the manager sees it and may pause or reschedule a job.
    "django_celery_beat.periodictask": (ALL, VIEW, NONE, NONE, NONE, NONE),
    "django_celery_beat.intervalschedule": (ALL, VIEW, NONE, NONE, NONE, NONE),
    "django_celery_beat.crontabschedule": (ALL, VIEW, NONE, NONE, NONE, NONE),
    "django_celery_beat.solarschedule": (ALL, VIEW, NONE, NONE, NONE, NONE),
    "django_celery_beat.clockedschedule": (ALL, VIEW, NONE, NONE, NONE, NONE),
    "members.pointsentry": (ALL, VIEW, VIEW, NONE, NONE, NONE),
    "members.level": (ALL, ALL, NONE, NONE, NONE, NONE),
    "members.user": ACCOUNTS_ONLY,
    "auth.group": ACCOUNTS_ONLY,
    "account.emailaddress": ACCOUNTS_ONLY,
    "staff.salesprofile": ACCOUNTS_ONLY,
    "staff.shopsettings": ACCOUNTS_ONLY,
    "staff.inquiry": (ALL, ALL, NONE, SCOPED, SCOPED, NONE),
    "staff.companypage": (ALL, ALL, NONE, NONE, NONE, ALL),
    "staff.followuptemplate": (ALL, ALL, NONE, VIEW, VIEW, NONE),
    # Sales and customer service read the follow-ups on the order's own page.
    "staff.followupsent": (ALL, VIEW, VIEW, NONE, NONE, NONE),
    "staff.dispute": (ALL, VIEW, VIEW, SCOPED, SCOPED, NONE),
    "staff.accessgrant": (ALL, VIEW, NONE, SCOPED, SCOPED, NONE),
    # Read-only for everyone: subscribers subscribe and unsubscribe themselves.
    "members.subscription": (ALL, VIEW, NONE, NONE, NONE, NONE),
    # Currencies and exchange rates: finance runs them, the manager sees them.
    "wholesale.currency": (ALL, VIEW, ALL, NONE, NONE, NONE),
}

DENIED = {403, 404}


@pytest.fixture
def demo():
    """The demo accounts (seed_demo's own code), two customers' orders, a dispute handed to
    the demo customer service account, and one row of every other admin's model."""
    call_command("seed_demo", "--accounts-only", verbosity=0)
    users = {
        "admin": User.objects.get(email="admin@demo.test"),
        "manager": User.objects.get(email="manager@demo.test"),
        "finance": User.objects.get(email="finance@demo.test"),
        "sales1": User.objects.get(email="sales1@demo.test"),
        "sales2": User.objects.get(email="sales2@demo.test"),
        "service": User.objects.get(email="service@demo.test"),
        "editor": User.objects.get(email="editor@demo.test"),
        "buyer1": User.objects.get(email="buyer1@demo.test"),
        "buyer2": User.objects.get(email="buyer2@demo.test"),
    }
    service2 = StaffFactory(first_name="Other service")
    service2.groups.add(Group.objects.get(name=roles.CUSTOMER_SERVICE))
    size = ProductFactory(variants__stock=1000).variants.order_by("position").first()
    own = place_order(users["buyer1"], {size: 60})
    foreign = place_order(users["buyer2"], {size: 60})
    unpaid = place_order(users["buyer1"], {size: 60})
    for order in (own, foreign):
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=users["finance"], reference="R")
    disputes.dispute_open(
        order_id=own.pk, by=users["sales1"], handed_to=users["service"], reason="Crushed box"
    )
    disputes.dispute_open(
        order_id=foreign.pk, by=users["sales2"], handed_to=service2, reason="Late"
    )
    for buyer in ("buyer1", "buyer2"):
        Cart.objects.get_or_create(member=users[buyer])
    mine = Inquiry.objects.create(
        kind=Inquiry.Kind.INQUIRY,
        name="Mine",
        email="mine@example.test",
        subject="Mine inquiry",
        owner=users["sales1"],
    )
    theirs = Inquiry.objects.create(
        kind=Inquiry.Kind.INQUIRY,
        name="Theirs",
        email="theirs@example.test",
        subject="Theirs inquiry",
        owner=users["sales2"],
    )
    access_grant(mine, to=users["service"], by=users["sales1"], reason="Please answer")
    d1 = Distributor.objects.get(user=users["buyer1"])
    d2 = Distributor.objects.get(user=users["buyer2"])
    access_grant(d1, to=users["service"], by=users["sales1"], reason="Call about the claim")
    WebhookEvent.objects.create(event_id="evt_1", type="checkout.session.completed", payload={})
    CompanyPage.objects.create(slug="about", title="About us", is_published=True)
    ShopSettings.objects.get_or_create(pk=1)
    objects = {
        "catalog.category": (Category.objects.first(), None),
        "catalog.product": (Product.objects.first(), None),
        "catalog.stockmovement": (StockMovement.objects.first(), None),
        "catalog.review": (
            Review.objects.create(
                product=size.product, member=users["buyer1"], rating=4, text="Ok"
            ),
            None,
        ),
        "members.distributor": (d1, d2),
        "members.address": (
            Address.objects.filter(member=users["buyer1"]).first(),
            Address.objects.filter(member=users["buyer2"]).first(),
        ),
        "orders.cart": (
            Cart.objects.get(member=users["buyer1"]),
            Cart.objects.get(member=users["buyer2"]),
        ),
        "orders.order": (own, foreign),
        "orders.payment": (Payment.objects.filter(order=own).first(), None),
        "orders.webhookevent": (WebhookEvent.objects.first(), None),
        "orders.shippingzone": (ShippingZone.objects.first(), None),
        "orders.shippingmethod": (ShippingMethod.objects.first(), None),
        "members.level": (Level.objects.order_by("position").first(), None),
        "members.user": (users["buyer1"], None),
        "auth.group": (Group.objects.get(name=roles.SALES), None),
        "account.emailaddress": (EmailAddress.objects.first(), None),
        "staff.salesprofile": (SalesProfile.objects.get(user=users["sales1"]), None),
        "staff.shopsettings": (ShopSettings.objects.get(pk=1), None),
        "members.pointsrules": (points_rules(), None),
        "members.pointsentry": (
            points_adjust(member=users["buyer1"], points=100, by=users["admin"], reason="Welcome"),
            None,
        ),
        "staff.inquiry": (mine, theirs),
        "staff.companypage": (CompanyPage.objects.get(), None),
        "staff.followuptemplate": (FollowUpTemplate.objects.first(), None),
        "staff.dispute": (Dispute.objects.get(order=own), Dispute.objects.get(order=foreign)),
        "staff.accessgrant": (
            AccessGrant.objects.get(dispute__order=own),
            AccessGrant.objects.get(dispute__order=foreign),
        ),
    }
    return {"users": users, "objects": objects, "unpaid": unpaid, "own": own, "foreign": foreign}


def _extra_objects(demo):
    """Rows for admins that other parts of the issue register (payment settings, follow-ups
    sent), made through the models so the matrix covers whatever is registered."""
    registry = {model._meta.label_lower: model for model in admin.site._registry}
    objects = demo["objects"]
    if "orders.trackingrun" in registry:
        run = registry["orders.trackingrun"].objects.create(provider="offline")
        objects["orders.trackingrun"] = (run, None)
    if "django_celery_beat.periodictask" in registry:
        from django_celery_beat.models import (
            ClockedSchedule,
            CrontabSchedule,
            IntervalSchedule,
            PeriodicTask,
            SolarSchedule,
        )

        every = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
        objects["django_celery_beat.intervalschedule"] = (every, None)
        objects["django_celery_beat.periodictask"] = (
            PeriodicTask.objects.create(name="Outbox", task="x", interval=every),
            None,
        )
        objects["django_celery_beat.crontabschedule"] = (CrontabSchedule.objects.create(), None)
        objects["django_celery_beat.solarschedule"] = (
            SolarSchedule.objects.create(event="sunrise", latitude=0, longitude=0),
            None,
        )
        objects["django_celery_beat.clockedschedule"] = (
            ClockedSchedule.objects.create(clocked_time=timezone.now()),
            None,
        )
    if "orders.exportprofile" in registry:
        profile = registry["orders.exportprofile"].objects.create(
            name="ERP", folder="erp", fields=[{"source": "order_number", "column": "Order"}]
        )
        objects["orders.exportprofile"] = (profile, None)
        run = registry["orders.exportrun"].objects.create(
            profile=profile, status="succeeded", upper_bound=timezone.now()
        )
        objects["orders.exportrun"] = (run, None)
    if "orders.paymentsettings" in registry:
        settings_row = registry["orders.paymentsettings"].objects.get_or_create(pk=1)[0]
        objects["orders.paymentsettings"] = (settings_row, None)
    if "orders.countrypaymentmethods" in registry:
        rule = registry["orders.countrypaymentmethods"].objects.create(
            country="NL", methods=["ideal", "card"]
        )
        objects["orders.countrypaymentmethods"] = (rule, None)
    if "staff.followupsent" in registry:
        sent = registry["staff.followupsent"]
        template = FollowUpTemplate.objects.first()
        rows = []
        for order, by in ((demo["own"], "sales1"), (demo["foreign"], "sales2")):
            rows.append(
                sent.objects.create(
                    order=order,
                    template=template,
                    sent_by=demo["users"][by],
                    to_email=order.email,
                    subject="Your parcel",
                    body="On its way",
                )
            )
        objects["staff.followupsent"] = tuple(rows)
    if "wholesale.currency" in registry:
        objects["wholesale.currency"] = (registry["wholesale.currency"].objects.first(), None)
    if "members.subscription" in registry:
        subscription = registry["members.subscription"].objects.create(
            email="news@example.test", kind="newsletter"
        )
        objects["members.subscription"] = (subscription, None)


def admin_url(model, name, obj=None) -> str:
    info = (model._meta.app_label, model._meta.model_name)
    args = [obj.pk] if obj is not None else []
    return reverse("admin:{}_{}_{}".format(*info, name), args=args)


def expected_model_page(level, page, *, own: bool, baseline: int) -> str:
    """'allow' or 'deny' for one role, one page of one admin."""
    if baseline in DENIED:
        return "deny"  # not even the super admin (read-only ledgers, no add on orders…)
    if level == ALL:
        return "allow"
    if level == NONE or page in ("add", "delete"):
        return "deny"
    if level == VIEW or page == "changelist":
        return "allow"
    return "allow" if own else "deny"  # SCOPED


# Custom pages: (url name, object key, roles allowed on the object that role may act on).
ORDER_PAGES = {
    "confirm_transfer": ("unpaid", {"admin", "finance"}),
    "ship": ("own", {"admin", "manager", "finance"}),
    "refund": ("own", {"admin", "finance"}),
    "state": ("own", {"admin", "manager", "finance"}),
    "packing_slip": ("own", {"admin", "manager", "finance", "sales1", "service"}),
    "dispute_open": ("unpaid", {"admin", "manager", "finance", "sales1"}),
    "dispute_close": ("own", {"admin", "manager", "finance", "sales1", "service"}),
    "share": ("own", {"admin", "manager", "finance", "sales1"}),
    "followup": ("own", {"admin", "manager", "sales1", "service"}),
}


def test_every_role_sees_exactly_its_part_of_the_admin(client, demo):
    _extra_objects(demo)
    users, objects = demo["users"], demo["objects"]
    registered = {model._meta.label_lower: model for model in admin.site._registry}
    assert set(registered) <= set(TABLE), f"no matrix row for {set(registered) - set(TABLE)}"
    cells, mismatches = 0, []

    def check(role, url, want, *, hidden=""):
        nonlocal cells
        cells += 1
        response = client.get(url)
        status = response.status_code
        body = response.content.decode(errors="replace") if status != 302 else ""
        if role in ("buyer1", "anonymous"):
            ok = status == 302 and "/admin/login/" in response["Location"]
        elif want == "allow":
            # 200, or a one-row settings admin sending its list to its row
            ok = status == 200 or (status == 302 and "/admin/login/" not in response["Location"])
        else:
            ok = status in DENIED and (not hidden or hidden not in body)
        if not ok:
            mismatches.append((role, url, want, status))

    # The super admin's own answers: what the admin allows at all.
    client.force_login(users["admin"])
    baseline = {}
    for label, model in registered.items():
        own_obj, _foreign_obj = objects[label]
        for page in ("changelist", "add", "change", "delete", "history"):
            url = admin_url(model, page, own_obj if page not in ("changelist", "add") else None)
            baseline[label, page] = client.get(url).status_code

    for role in (*STAFF_ROLES, "buyer1", "anonymous"):
        client.logout()
        if role != "anonymous":
            client.force_login(users[role])
        check(role, "/admin/", "allow")
        for label, model in registered.items():
            level = TABLE[label][STAFF_ROLES.index(role)] if role in STAFF_ROLES else NONE
            own_obj, foreign_obj = objects[label]
            for page in ("changelist", "add"):
                want = expected_model_page(level, page, own=True, baseline=baseline[label, page])
                check(role, admin_url(model, page), want)
            for page in ("change", "delete", "history"):
                base = baseline[label, page]
                check(
                    role,
                    admin_url(model, page, own_obj),
                    expected_model_page(level, page, own=True, baseline=base),
                )
                if foreign_obj is not None:
                    check(
                        role,
                        admin_url(model, page, foreign_obj),
                        expected_model_page(level, page, own=False, baseline=base),
                        hidden=str(foreign_obj),
                    )
        for name, (which, allowed) in ORDER_PAGES.items():
            url_name = f"admin:orders_order_{name}"
            target = demo["unpaid"] if which == "unpaid" else demo["own"]
            check(role, object_url(url_name, target), "allow" if role in allowed else "deny")
            check(
                role,
                object_url(url_name, demo["foreign"]),
                "allow" if role in allowed and role in ("admin", "manager", "finance") else "deny",
                hidden=demo["foreign"].number,
            )
        distributor_pages = {
            object_url("admin:members_distributor_transfer"): {"admin", "manager"},
            object_url("admin:members_distributor_share", objects["members.distributor"][0]): {
                "admin",
                "manager",
                "sales1",
            },
            object_url("admin:staff_inquiry_share", objects["staff.inquiry"][0]): {
                "admin",
                "manager",
                "sales1",
            },
        }
        for url, allowed in distributor_pages.items():
            check(role, url, "allow" if role in allowed else "deny")
        # Object permissions are given through the share and dispute pages only: guardian's
        # own permission pages are not mounted, for anyone.
        assert client.get(f"/admin/orders/order/{demo['own'].pk}/permissions/").status_code != 200
        for app_label in {label.split(".")[0] for label in registered}:
            levels = [
                TABLE[label][STAFF_ROLES.index(role)] if role in STAFF_ROLES else NONE
                for label in registered
                if label.startswith(app_label + ".")
            ]
            reachable = any(level != NONE for level in levels) or role == "admin"
            want = "allow" if reachable else "deny"
            check(role, f"/admin/{app_label}/", want)

    print(f"\nA1: {cells - len(mismatches)} of {cells} cells match DESIGN.md")
    assert not mismatches, "\n".join(map(str, mismatches))


def object_url(name, obj=None):
    return reverse(name, args=[obj.pk] if obj is not None else [])


def test_grants_end_on_time(client, demo):
    """A share that has run out gives nothing, even before the beat job revokes it."""
    users = demo["users"]
    mine = demo["objects"]["staff.inquiry"][0]
    url = f"/admin/staff/inquiry/{mine.pk}/change/"
    client.force_login(users["service"])
    assert client.get(url).status_code == 200
    grant = AccessGrant.objects.filter(granted_to=users["service"], content_type__model="inquiry")
    grant.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(url).status_code == 404
    assert grants_expire() == 1
    assert client.get(url).status_code == 404


def test_the_staff_admin_lists_cost_the_same_whatever_their_length(client, demo):
    """DESIGN.md: a list page's query count does not grow with its rows, for the super admin
    and for the scoped roles alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    users = demo["users"]
    lists = [
        "/admin/members/distributor/",
        "/admin/orders/order/",
        "/admin/staff/dispute/",
        "/admin/staff/accessgrant/",
        "/admin/staff/salesprofile/",
    ]

    def counts():
        found = {}
        for role in ("admin", "sales1", "service"):
            client.force_login(users[role])
            for url in lists:
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                if response.status_code == 200:
                    found[role, url] = len(queries)
        return found

    counts()  # warm the per-process caches (content types, site) first
    before = counts()
    size = ProductFactory(variants__stock=1000).variants.first()
    for _ in range(3):
        order = place_order(users["buyer1"], {size: 60})
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=users["finance"], reference="R")
        disputes.dispute_open(
            order_id=order.pk, by=users["sales1"], handed_to=users["service"], reason="Again"
        )
        buyer = StaffFactory(is_staff=False)
        distributor = Distributor.objects.create(
            user=buyer,
            company_name="More Trading",
            contact_name="More",
            country="DE",
            business_type=Distributor._meta.get_field("business_type").choices[0][0],
            phone="+49 1",
            owner=users["sales1"],
        )
        access_grant(distributor, to=users["service"], by=users["sales1"], reason="Cover")
    after = counts()
    assert before == after, {key: (before[key], after[key]) for key in before}

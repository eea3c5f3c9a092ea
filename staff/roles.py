"""The staff roles of DESIGN.md as Django groups, and the model permissions each holds.

The super admin is a superuser and needs no group. The other five roles are groups whose
permissions are exactly the sets below: `roles_sync()` makes the database match (a migration
runs it, and so does `manage.py roles_sync` after a change here).

Sales and customer service hold no model-level permission on what they may see only in part
(distributors, orders, payments, messages): a model permission opens every object, so their
access is decided per object, by ownership and hand-over (RELIABILITY.md A2, A6).
"""

from __future__ import annotations

MANAGER = "manager"
FINANCE = "finance"
SALES = "sales"
CUSTOMER_SERVICE = "customer_service"
EDITOR = "editor"

CRUD = ("add", "change", "delete", "view")
CATALOG_EDITED = (
    "category",
    "product",
    "variant",
    "pricetier",
    "productimage",
    "categorytranslation",
    "producttranslation",
)


def _perms(app: str, models, actions=CRUD) -> set[str]:
    return {f"{app}.{action}_{model}" for model in models for action in actions}


# Not a model permission on what sales see in part: the marker that scopes the admin to a
# salesperson's own customers (staff.admin).
SEES_OWN_CUSTOMERS = "staff.see_own_customers"
# Likewise for customer service: the objects handed over to them (staff.grants).
SEES_HANDED_OVER = "staff.see_handed_over"

CATALOG_ALL = _perms("catalog", CATALOG_EDITED) | {"catalog.view_stockmovement"}
CATALOG_VIEW = _perms("catalog", (*CATALOG_EDITED, "stockmovement"), ("view",))
SHIPPING_ALL = _perms("orders", ("shippingzone", "shippingmethod", "shippingrate"))
PAYMENTS_VIEW = _perms("orders", ("payment", "refund"), ("view",))
SHOWCASE_ALL = _perms("staff", ("companypage", "companypageimage"))
# Reviews are moderated by whoever looks after the catalog's content.
REVIEWS_MODERATED = _perms("catalog", ("review",), ("change", "delete", "view")) | {
    "catalog.view_reviewphoto"
}
POINTS_VIEW = _perms("members", ("pointsaccount", "pointsentry"), ("view",))
# The jobs' schedule (django-celery-beat): the manager sees it and may pause or reschedule a job.
SCHEDULE_MANAGED = _perms("django_celery_beat", ("periodictask",), ("change", "view")) | _perms(
    "django_celery_beat",
    ("intervalschedule", "crontabschedule", "solarschedule", "clockedschedule"),
    ("view",),
)
FOLLOWUP_TEMPLATES_ALL = _perms("staff", ("followuptemplate",))
FOLLOWUP_TEMPLATES_VIEW = _perms("staff", ("followuptemplate",), ("view",))
# Inquiries and messages: everything for the manager; sales and customer service reach only
# their own or handed-over conversations, per object (staff.admin).
INQUIRIES_ALL = _perms("staff", ("inquiry",), ("change", "delete", "view")) | _perms(
    "staff", ("inquirymessage",), ("add", "view")
)

# The reports (analytics.access): all of them for the manager, the sales and payment reports
# for finance, their own figures for sales and customer service.
ANALYTICS_ALL = "analytics.view_all_reports"
ANALYTICS_SALES = "analytics.view_sales_reports"
ANALYTICS_OWN_SALES = "analytics.view_own_performance"
ANALYTICS_OWN_SERVICE = "analytics.view_own_service"

# Currencies and their exchange rates (wholesale.currencies): finance runs them.
CURRENCIES_ALL = _perms("wholesale", ("currency",))
CURRENCIES_VIEW = _perms("wholesale", ("currency",), ("view",))

ROLES: dict[str, set[str]] = {
    MANAGER: CATALOG_ALL
    | SHOWCASE_ALL
    | REVIEWS_MODERATED
    | POINTS_VIEW
    | SCHEDULE_MANAGED
    | {"orders.view_trackingrun"}
    | _perms("members", ("level",))
    | {"members.view_levelchange", "members.view_subscription"}
    | FOLLOWUP_TEMPLATES_ALL
    | INQUIRIES_ALL
    | {"staff.view_accessgrant", "staff.view_dispute", "staff.view_followupsent"}
    | SHIPPING_ALL
    | PAYMENTS_VIEW
    | _perms("members", ("distributor",))
    | {"members.view_address", "orders.view_cart", "orders.view_webhookevent"}
    | {"orders.view_order", "orders.change_order", "orders.ship_order"}
    | _perms("orders", ("exportprofile",))
    | {"orders.view_exportrun"}
    | {ANALYTICS_ALL}
    | CURRENCIES_VIEW,
    FINANCE: CATALOG_VIEW
    | PAYMENTS_VIEW
    | {"members.view_distributor", "members.view_address", "orders.view_cart"}
    | {"orders.view_webhookevent"}
    | {"staff.view_dispute", "staff.view_followupsent"}
    | POINTS_VIEW
    | {
        "orders.view_order",
        "orders.change_order",
        "orders.ship_order",
        "orders.confirm_payment",
        "orders.refund_order",
    }
    | {ANALYTICS_SALES}
    | CURRENCIES_ALL,
    SALES: CATALOG_VIEW | FOLLOWUP_TEMPLATES_VIEW | {SEES_OWN_CUSTOMERS, ANALYTICS_OWN_SALES},
    CUSTOMER_SERVICE: CATALOG_VIEW
    | FOLLOWUP_TEMPLATES_VIEW
    | {SEES_HANDED_OVER, ANALYTICS_OWN_SERVICE},
    EDITOR: CATALOG_ALL | SHOWCASE_ALL | REVIEWS_MODERATED,
}


def roles_sync(apps=None, *, create_missing_permissions: bool = True) -> dict[str, int]:
    """Create the role groups and give each exactly its permissions. Idempotent; returns the
    number of permissions per role. `apps` is a migration's app registry, or None at run time.
    """
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if create_missing_permissions:
        # In a fresh database the permissions are made after all migrations (post_migrate);
        # make the ones the roles need now.
        from django.apps import apps as global_apps
        from django.contrib.auth.management import create_permissions

        labels = (
            "catalog",
            "members",
            "orders",
            "staff",
            "django_celery_beat",
            "analytics",
            "wholesale",
        )
        for label in labels:
            create_permissions(global_apps.get_app_config(label), verbosity=0)
    counts = {}
    for name, wanted in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        found = []
        for dotted in sorted(wanted):
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                raise LookupError(f"Role {name}: no permission {dotted}")
            found.append(permission)
        group.permissions.set(found)
        counts[name] = len(found)
    return counts

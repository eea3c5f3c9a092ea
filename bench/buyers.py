"""Logged-in buyers for the ordering pages of the bench: accounts, 10-line carts, sessions.

Three pools of approved distributors (all shipping to the US by an "express" rate), prepared
again before each phase by ``prepare()`` so every phase starts from the same state:

- ``cart``: 200 buyers, each with a cart of 10 lines; ``GET /cart/`` rotates over them.
- ``add``: 200 buyers with the same 10-line carts, posting one unit of another product to
  ``POST /cart/add/<slug>/`` (5 products each, so a cart grows to at most 15 lines).
- ``place``: 4,000 buyers with 10-line carts, each posting the checkout's review form once
  (``POST /checkout/review/`` with ``action=place``). Placing an order empties the cart, so
  each of these requests is sent at most once (``Feed.once``): run.py hands every wrk run the
  requests not used yet and stops if they run out.

Each buyer gets a database session (logged in, as after a real login) and a CSRF secret; the
requests carry both as cookies, plus the token in ``X-CSRFToken``, as a browser would. Cart
lines use products that are in stock, sold by 1 or 10, with a minimum of at most 10 units and
a price of 2.00 or more, 10 units a line, so every cart is ready for checkout; their stock is
topped up (through catalog.services, so the ledger stays whole) when it runs low.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

POOLS = {"cart": 200, "add": 200, "place": 4_000}
CART_LINES = 10
UNITS = 10
ADDS_PER_BUYER = 5
PRODUCT_POOL = 600
STOCK_FLOOR = 20_000
STOCK_TOP = 200_000
COUNTRY = "US"
METHOD = "express"
EMAIL = "bench-{pool}-{index:05d}@bench.test"
PASSWORD = "bench-pass-2024"  # noqa: S105 - accounts of the bench database only


@dataclass(frozen=True)
class Request:
    """One HTTP request of a logged-in buyer, as a line of the file wrk reads (rotate.lua)."""

    method: str
    path: str
    cookie: str
    csrf: str
    body: str = ""

    def line(self) -> str:
        return "\t".join((self.method, self.path, self.cookie, self.csrf, self.body))


@dataclass
class Feed:
    """The requests of one page. A `once` feed never sends a request twice: `used` counts
    those handed out, and `remaining()` is what the next load run may send."""

    requests: list[Request]
    once: bool = False
    used: int = 0

    def remaining(self) -> list[Request]:
        return self.requests[self.used :] if self.once else self.requests

    def consume(self, count: int) -> None:
        if self.once:
            self.used = min(len(self.requests), self.used + count)

    def write(self, path: Path) -> Path:
        path.write_text("".join(request.line() + "\n" for request in self.remaining()))
        return path


def _shipping() -> None:
    from decimal import Decimal

    from orders.models import ShippingMethod, ShippingRate, ShippingZone

    method, _ = ShippingMethod.objects.get_or_create(
        code=METHOD, defaults={"name": "Express courier"}
    )
    zone = ShippingZone.objects.filter(name="Bench buyers").first()
    if zone is None:
        zone = ShippingZone.objects.create(name="Bench buyers", countries=[COUNTRY], position=0)
    ShippingRate.objects.get_or_create(
        zone=zone,
        method=method,
        defaults={
            "first_weight_grams": 500,
            "first_price": Decimal("20.00"),
            "additional_weight_grams": 500,
            "additional_price": Decimal("5.00"),
            "min_days": 5,
            "max_days": 9,
        },
    )


def _products() -> list[tuple[str, int]]:
    """(slug, variant id) of products every cart line may hold, stock topped up."""
    from django.db.models import Q

    from catalog.models import Product, StockMovement, Variant
    from catalog.services import stock_adjust

    products = list(
        Product.objects.published()
        .filter(
            Q(order_increment=1) | Q(order_increment=10),
            made_to_order=False,
            moq__lte=UNITS,
            price_from__gte=2,
        )
        .order_by("pk")
        .values_list("pk", "slug")[:PRODUCT_POOL]
    )
    first_variant = {}
    for product_id, variant_id, stock in (
        Variant.objects.filter(product_id__in=[pk for pk, _slug in products], is_active=True)
        .order_by("product_id", "position", "pk")
        .values_list("product_id", "pk", "stock")
    ):
        first_variant.setdefault(product_id, (variant_id, stock))
    for variant_id, stock in first_variant.values():
        if stock < STOCK_FLOOR:
            stock_adjust(
                variant_id=variant_id,
                delta=STOCK_TOP - stock,
                reason=StockMovement.Reason.ADJUSTMENT,
                note="bench: stock for the ordering pages",
            )
    return [(slug, first_variant[pk][0]) for pk, slug in products if pk in first_variant]


def _members(pool: str, count: int) -> list:
    """The pool's approved distributors with one default US address, created when missing."""
    from django.contrib.auth.hashers import make_password

    from members.models import Address, BusinessType, Distributor, User

    emails = [EMAIL.format(pool=pool, index=index) for index in range(count)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    missing = [email for email in emails if email not in existing]
    if missing:
        password = make_password(PASSWORD)
        User.objects.bulk_create([User(email=email, password=password) for email in missing])
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    have_distributor = set(
        Distributor.objects.filter(user__in=users.values()).values_list("user_id", flat=True)
    )
    Distributor.objects.bulk_create(
        [
            Distributor(
                user=user,
                company_name=f"Bench Trading {user.pk}",
                contact_name="Bench Buyer",
                country=COUNTRY,
                business_type=BusinessType.ONLINE_SHOP,
                phone="+1 555 0100",
                status=Distributor.Status.APPROVED,
            )
            for user in users.values()
            if user.pk not in have_distributor
        ]
    )
    have_address = set(
        Address.objects.filter(member__in=users.values()).values_list("member_id", flat=True)
    )
    Address.objects.bulk_create(
        [
            Address(
                member=user,
                name="Bench Buyer",
                company="Bench Trading",
                line1="1 Market Street",
                city="San Francisco",
                region="CA",
                postal_code="94105",
                country=COUNTRY,
                phone="+1 555 0100",
                is_default=True,
            )
            for user in users.values()
            if user.pk not in have_address
        ]
    )
    addresses = dict(
        Address.objects.filter(member__in=users.values(), is_default=True).values_list(
            "member_id", "pk"
        )
    )
    members = [users[email] for email in emails]
    for member in members:
        member.bench_address_id = addresses[member.pk]
    return members


def _fill_carts(members: list, products: list[tuple[str, int]], offset: int) -> dict[int, list]:
    """Give each member a cart of CART_LINES lines (anything else in it is removed)."""
    from orders.models import Cart, CartLine

    Cart.objects.bulk_create([Cart(member=member) for member in members], ignore_conflicts=True)
    carts = dict(Cart.objects.filter(member__in=members).values_list("member_id", "pk"))
    CartLine.objects.filter(cart_id__in=carts.values()).delete()
    lines, held = [], {}
    for number, member in enumerate(members):
        start = (offset + number * CART_LINES) % len(products)
        chosen = [products[(start + k) % len(products)] for k in range(CART_LINES)]
        held[member.pk] = chosen
        lines += [
            CartLine(cart_id=carts[member.pk], variant_id=variant_id, quantity=UNITS)
            for _slug, variant_id in chosen
        ]
    CartLine.objects.bulk_create(lines, batch_size=5_000)
    return held


def _sessions(pool: str, members: list) -> dict[int, tuple[str, str]]:
    """A logged-in session and a CSRF secret per member: {member id: (session key, csrf)}."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    store = SessionStore()
    expires = timezone.now() + timedelta(days=14)
    keys = {
        member.pk: f"bench{pool}{index:05d}".ljust(32, "0") for index, member in enumerate(members)
    }
    Session.objects.filter(session_key__in=keys.values()).delete()
    Session.objects.bulk_create(
        [
            Session(
                session_key=keys[member.pk],
                session_data=store.encode(
                    {
                        SESSION_KEY: str(member.pk),
                        BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                        HASH_SESSION_KEY: member.get_session_auth_hash(),
                    }
                ),
                expire_date=expires,
            )
            for member in members
        ],
        batch_size=5_000,
    )
    # A fixed secret per buyer: the bench database's accounts are nobody's.
    return {pk: (key, f"benchcsrf{pk:023d}") for pk, key in keys.items()}


def _cookie(session_key: str, csrf: str) -> str:
    from django.conf import settings

    return f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"


def _place_body(member, held: list[tuple[str, int]]) -> str:
    from orders.checkout_views import cart_fingerprint

    # cart_fingerprint reads the variants and quantities of a CartView; these are the lines
    # the cart was just given, so the form is the one the review page would have rendered.
    cart = SimpleNamespace(
        products=[
            SimpleNamespace(lines=[SimpleNamespace(variant_id=v, quantity=UNITS)])
            for _slug, v in held
        ]
    )
    return urlencode(
        {
            "action": "place",
            "checkout_key": str(uuid.uuid4()),
            "address_id": member.bench_address_id,
            "shipping_method": METHOD,
            "insured": "on",
            "payment_method": "bank_transfer",
            "note": "",
            "quoted_method": METHOD,
            "quoted_insured": "1",
            "quoted_cart": cart_fingerprint(cart),
        }
    )


def prepare(*, place_buyers: int = POOLS["place"], with_place: bool = True) -> dict[str, Feed]:
    """Reset the buyers' carts and sessions; return the requests of each ordering page."""
    from django.db import transaction

    _shipping()
    products = _products()
    if len(products) < CART_LINES * 2:
        raise SystemExit(f"Only {len(products)} products fit the ordering pages' carts.")
    sizes = {**POOLS, "place": place_buyers if with_place else 0}
    feeds: dict[str, Feed] = {}
    with transaction.atomic():
        members = {pool: _members(pool, count) for pool, count in sizes.items() if count}
        held = {
            pool: _fill_carts(group, products, offset=7 * number)
            for number, (pool, group) in enumerate(members.items())
        }
        sessions = {pool: _sessions(pool, group) for pool, group in members.items()}

    def cookie(pool, member):
        key, csrf = sessions[pool][member.pk]
        return _cookie(key, csrf), csrf

    feeds["cart"] = Feed([Request("GET", "/cart/", *cookie("cart", m)) for m in members["cart"]])
    adds = []
    for k in range(ADDS_PER_BUYER):
        for number, member in enumerate(members["add"]):
            # Products that are not in the cart yet: the first post adds a line.
            slug, variant_id = products[
                (len(products) // 2 + number * ADDS_PER_BUYER + k) % len(products)
            ]
            adds.append(
                Request(
                    "POST",
                    f"/cart/add/{slug}/",
                    *cookie("add", member),
                    urlencode({f"qty_{variant_id}": 1}),
                )
            )
    feeds["add"] = Feed(adds)
    if with_place:
        feeds["place"] = Feed(
            [
                Request(
                    "POST",
                    "/checkout/review/",
                    *cookie("place", member),
                    _place_body(member, held["place"][member.pk]),
                )
                for member in members["place"]
            ],
            once=True,
        )
    return feeds


def placed_orders() -> int:
    """How many orders the place pool has placed so far (all runs)."""
    from orders.models import Order

    return Order.objects.filter(email__startswith="bench-place-").count()

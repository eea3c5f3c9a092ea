"""A realistic sales history for the demo and the benchmark: distributors and a year of their
orders, written in bulk, straight into the tables (issue 7).

Placing thousands of orders through checkout would take minutes and move stock, so this module
writes the rows the services would have written, consistent with each other:

- distributors (members.User + Distributor) from the real export markets, of every business
  type, owned by the existing salespeople (with their ownership and referral rows);
- their orders at the catalog's tier prices (catalog.pricing) with the totals worked out by
  orders.totals, as checkout does: level discount, points redeemed, shipping, insurance, the
  dropship fee, a few currencies; numbered like checkout numbers orders (prefix and 100000 +
  the primary key), so they never collide with real ones; holds_stock=False, no stock moves;
- each order's history (placed, payment, state changes), its payments (card or bank transfer,
  some card attempts declined), refunds (whole or a few units), the points it earned or spent,
  and the level changes its payment caused, so `manage.py orders_reconcile` finds nothing;
- the page views, cart additions and searches that came before the orders.

The shape of the history: each buyer has their own purchase cycle (7 to 60 days between orders,
with noise); orders come more often in the fourth quarter and less in the summer, and the shop
grows over the year; some buyers join during the year, some stop ordering (churners), some
order less and less (at risk). A product sells only from its publish date.

`history_generate` writes a history of any size in chunks of buyers, with bounded memory;
`history_seed_demo` writes the demo's once.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language, gettext

from catalog.models import CartAddition, Product, ProductView, SearchLog
from catalog.pricing import Tier, quote
from members.levels import level_default, level_for
from members.models import (
    BusinessType,
    Distributor,
    Level,
    LevelChange,
    PointsAccount,
    PointsEntry,
    User,
)
from members.points import points_for, points_rules, points_value, redeem_limits
from orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    Payment,
    PaymentMethod,
    Refund,
    RefundLine,
)
from orders.totals import LineAmount, order_totals
from staff.models import OwnershipChange, ReferralVisit, SalesProfile
from wholesale.money import Money, quantize


@lru_cache(maxsize=256)
def _translated(message: str, language: str | None) -> str:
    return gettext(message)


def _(message: str) -> str:
    """gettext, remembered: the history asks for the same few messages a million times."""
    return _translated(message, get_language())


DEMO_DOMAIN = "history.demo.test"
DEMO_BUYERS = 300
BATCH = 2000
CHUNK_BUYERS = 200

S = OrderState
Kind = PointsEntry.Kind
Event = OrderEvent.Kind

# Where the buyers are, weighted like a Chinese exporter's customer list.
COUNTRIES = [
    ("US", 20), ("GB", 10), ("DE", 9), ("FR", 7), ("AU", 6), ("CA", 6), ("NL", 4), ("ES", 4),
    ("IT", 4), ("AE", 4), ("SA", 3), ("BR", 3), ("MX", 3), ("JP", 3), ("KR", 3), ("SE", 2),
    ("PL", 2), ("IE", 2), ("NZ", 2), ("SG", 2), ("CH", 1), ("ZA", 1), ("IL", 1), ("CL", 1),
]  # fmt: skip
EURO = {"DE", "FR", "NL", "ES", "IT", "IE"}
# Units of each currency per US dollar (when the base currency is the dollar); _rate drifts them.
RATES = {"EUR": "0.92", "GBP": "0.79", "AUD": "1.52", "CAD": "1.36", "JPY": "151"}
COMPANY_FORMS = {
    "US": "LLC", "GB": "Ltd", "DE": "GmbH", "FR": "SARL", "AU": "Pty Ltd", "CA": "Inc.",
    "NL": "B.V.", "ES": "S.L.", "IT": "S.r.l.", "AE": "FZE", "SA": "Trading Est.",
    "BR": "Ltda", "MX": "S.A. de C.V.", "JP": "K.K.", "KR": "Co., Ltd", "SE": "AB",
    "PL": "Sp. z o.o.", "IE": "Ltd", "NZ": "Ltd", "SG": "Pte Ltd", "CH": "AG",
}  # fmt: skip
PHONE_CODES = {
    "US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "AU": "61", "NL": "31", "ES": "34",
    "IT": "39", "AE": "971", "SA": "966", "BR": "55", "MX": "52", "JP": "81", "KR": "82",
    "SE": "46", "PL": "48", "IE": "353", "NZ": "64", "SG": "65", "CH": "41", "ZA": "27",
    "IL": "972", "CL": "56",
}  # fmt: skip
FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Mia", "Lucas", "Sofia", "Leon", "Amelia", "Mateo", "Hannah",
    "Omar", "Yuki", "Min-jun", "Chloe", "Ahmed", "Laura", "Diego", "Sara", "Ethan", "Fatima",
    "Jonas", "Giulia", "Hugo", "Isla", "Marco", "Aisha", "Felix", "Ana", "Ryo",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Müller", "Martin", "Rossi", "García", "Brown", "Tanaka", "Kim", "Silva", "Dubois",
    "Jansen", "Nowak", "Andersson", "Wilson", "Haddad", "Lopez", "Schmidt", "Moreau", "Bianchi",
    "Taylor", "Costa", "Yamamoto", "Park", "O'Brien", "Walsh",
]  # fmt: skip
COMPANY_WORDS = [
    "Bright", "Harbor", "Northwind", "Bluebird", "Cedar", "Urban", "Golden", "Silver", "Nova",
    "Summit", "Coastal", "Maple", "Evergreen", "Prime", "Lucky", "Sunrise", "Pioneer", "Metro",
    "Atlas", "Orchid", "Falcon", "Horizon", "Pacific", "Alpine",
]  # fmt: skip
COMPANY_NOUNS = [
    "Goods", "Trading", "Supplies", "Imports", "Retail", "Store", "Market", "Distribution",
    "Collective",
]  # fmt: skip
# Searches the catalog never answers: what buyers look for that the shop does not sell.
NOTHING_FOUND = [
    "bluetooth speaker", "phone case", "led strip", "yoga mat", "drone", "vape",
    "solar panel", "car seat cover", "gaming chair", "perfume",
]  # fmt: skip

# Orders per month against the year's average: a fourth-quarter peak and a summer dip.
SEASON = {1: 0.9, 2: 0.85, 3: 0.95, 4: 1.0, 5: 1.0, 6: 0.85, 7: 0.72, 8: 0.72, 9: 1.05, 10: 1.2,
          11: 1.4, 12: 1.3}  # fmt: skip
GROWTH = 0.35  # the shop sells this much more at the end of the history than at its start


@dataclass(frozen=True)
class _Profile:
    """What a kind of business buys: its share of buyers, its days between orders, the size
    of its orders, how often it pays by card and how often its orders are dropshipped."""

    weight: int
    interval: tuple[int, int]
    scale: float
    card: float
    dropship: float


PROFILES = {
    BusinessType.OFFLINE_SHOP: _Profile(30, (21, 60), 1.6, 0.35, 0.0),
    BusinessType.ONLINE_SHOP: _Profile(25, (14, 45), 1.0, 0.6, 0.1),
    BusinessType.MARKETPLACE: _Profile(15, (10, 35), 1.8, 0.5, 0.05),
    BusinessType.INFLUENCER: _Profile(8, (20, 60), 0.35, 0.9, 0.3),
    BusinessType.DROPSHIPPER: _Profile(15, (7, 15), 0.25, 0.85, 0.9),
    BusinessType.OTHER: _Profile(7, (20, 60), 0.8, 0.5, 0.0),
}
SHIPPING = {
    # code: name, days from, days to
    "economy-post": ("Economy post", 12, 25),
    "express": ("Express courier", 3, 7),
    "sea-freight": ("Sea freight (LCL)", 25, 40),
}


# --- The catalog as the history sees it ----------------------------------------------------


@dataclass
class _Variant:
    id: int
    sku: str
    label: str
    option1: str
    weight: int
    price: Decimal | None


@dataclass
class _Product:
    id: int
    name: str
    category_id: int
    launched: datetime
    moq: int
    increment: int
    tiers: list[Tier]
    variants: list[_Variant]
    buy_weight: float = 1.0
    view_weight: float = 1.0


class _Picker:
    """Weighted draws of launched products in O(log n): cumulative weights and a bisection,
    a product not launched yet at the time asked for is drawn again (a few times at most)."""

    def __init__(self, products: list[_Product], weight):
        self.products = products
        self.cumulative = []
        total = 0.0
        for product in products:
            total += weight(product)
            self.cumulative.append(total)
        self.earliest = min((p.launched for p in products), default=None)

    def draw(self, rng: random.Random, at: datetime) -> _Product | None:
        if not self.products or self.earliest > at:
            return None
        for _attempt in range(8):
            index = bisect_left(self.cumulative, rng.random() * self.cumulative[-1])
            product = self.products[min(index, len(self.products) - 1)]
            if product.launched <= at:
                return product
        launched = [p for p in self.products if p.launched <= at]
        return rng.choice(launched) if launched else None


@dataclass
class _Catalog:
    products: list[_Product]
    by_category: dict[int, _Picker]
    buying: _Picker
    browsing: _Picker
    category_weights: list[tuple[int, float]]
    terms: list[tuple[str, int]]  # words of product names and how many products they find
    colours: list[str]


def _catalog(products, rng: random.Random) -> _Catalog:
    queryset = products if products is not None else Product.objects.published()
    loaded = []
    for product in queryset.order_by("pk").prefetch_related("variants", "tiers"):
        variants = [
            _Variant(v.pk, v.sku, v.label, v.option1, v.weight_grams, v.price)
            for v in sorted(product.variants.all(), key=lambda v: (v.position, v.pk))
            if v.is_active
        ]
        tiers = [Tier(t.min_quantity, t.unit_price) for t in product.tiers.all()]
        if not variants or not tiers or product.published_at is None:
            continue
        loaded.append(
            _Product(
                id=product.pk,
                name=product.name,
                category_id=product.category_id,
                launched=product.published_at,
                moq=max(product.moq, 1),
                increment=max(product.order_increment, 1),
                tiers=sorted(tiers, key=lambda t: t.min_quantity),
                variants=variants,
            )
        )
    if not loaded:
        raise ValueError("A sales history needs published products with variants and tiers.")
    # A few best sellers and a long tail; one product in ten draws the eye and rarely sells.
    for product in loaded:
        product.buy_weight = rng.paretovariate(1.2)
        product.view_weight = product.buy_weight
        if rng.random() < 0.1:
            product.view_weight = product.buy_weight * 6 + 3
            product.buy_weight /= 5
    grouped = defaultdict(list)
    for product in loaded:
        grouped[product.category_id].append(product)
    category_weights = [(cid, sum(p.buy_weight for p in ps)) for cid, ps in grouped.items()]
    words = defaultdict(int)
    for product in loaded:
        for word in {w.lower().strip(",.()") for w in product.name.split()}:
            if len(word) > 3 and word.isalpha():
                words[word] += 1
    terms = sorted(words.items())
    for term in NOTHING_FOUND:
        found = sum(term in product.name.lower() for product in loaded)
        terms.append((term, found))
    colours = sorted({v.option1 for p in loaded for v in p.variants if v.option1})
    return _Catalog(
        products=loaded,
        by_category={cid: _Picker(ps, lambda p: p.buy_weight) for cid, ps in grouped.items()},
        buying=_Picker(loaded, lambda p: p.buy_weight),
        browsing=_Picker(loaded, lambda p: p.view_weight),
        category_weights=category_weights,
        terms=terms,
        colours=colours,
    )


# --- Buyers -----------------------------------------------------------------------------------


@dataclass
class _Buyer:
    email: str
    first_name: str
    last_name: str
    company: str
    country: str
    business_type: str
    owner_id: int | None
    owner_source: str
    joined: datetime
    interval: float  # days between orders, typically
    scale: float  # the size of their orders
    card: float
    dropship: float
    currency: str
    favourites: list[int]
    colours: set[str]
    churn_at: datetime | None
    decline_at: datetime | None
    user_id: int = 0
    distributor_id: int = 0
    sales: list[_Sale] = field(default_factory=list)
    level_changes: list[tuple] = field(default_factory=list)
    level: Level | None = None
    level_since: datetime | None = None


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def _buyer(index, *, rng, start, end, domain, owners, catalog) -> _Buyer:
    business_type = _weighted(rng, [(k, p.weight) for k, p in PROFILES.items()])
    profile = PROFILES[business_type]
    country = _weighted(rng, COUNTRIES)
    span = (end - start).total_seconds()
    if rng.random() < 0.3:
        # Arrived during the history, more of them as the shop grows.
        joined = start + timedelta(seconds=span * math.sqrt(rng.random()) * 0.95)
    else:
        joined = start - timedelta(days=rng.uniform(20, 500))
    low, high = profile.interval
    interval = math.exp(rng.uniform(math.log(low), math.log(high)))
    churn_at = decline_at = None
    roll = rng.random()
    first_possible = max(joined, start) + timedelta(days=45)
    if roll < 0.18 and first_possible < end - timedelta(days=45):
        churn_at = first_possible + (end - timedelta(days=45) - first_possible) * rng.random()
    elif roll < 0.26 and first_possible < end - timedelta(days=60):
        decline_at = first_possible + (end - timedelta(days=60) - first_possible) * rng.random()
    currency = settings.WHOLESALE_BASE_CURRENCY
    local = (
        "EUR"
        if country in EURO
        else {"GB": "GBP", "AU": "AUD", "CA": "CAD", "JP": "JPY"}.get(country)
    )
    if local and currency == "USD" and rng.random() < 0.6:
        currency = local
    categories = catalog.category_weights
    favourites = []
    for _pick in range(rng.randint(1, 3)):
        favourites.append(_weighted(rng, categories))
    colours = set(rng.sample(catalog.colours, min(2, len(catalog.colours))))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    form = COMPANY_FORMS.get(country, "Ltd")
    company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)} {form}"
    owner_id, source = None, OwnershipChange.Source.ROUND_ROBIN
    if owners and rng.random() < 0.95:
        owner_id = _weighted(rng, owners)
        source = _weighted(
            rng,
            [
                (OwnershipChange.Source.REFERRAL, 3),
                (OwnershipChange.Source.SIGNUP_CHOICE, 2),
                (OwnershipChange.Source.ROUND_ROBIN, 5),
            ],
        )
    return _Buyer(
        email=f"{slugify(first)}.{index:06d}@{domain}",
        first_name=first,
        last_name=last,
        company=company,
        country=country,
        business_type=business_type,
        owner_id=owner_id,
        owner_source=source,
        joined=joined,
        interval=interval,
        scale=profile.scale * rng.lognormvariate(0, 0.45),
        card=profile.card,
        dropship=profile.dropship,
        currency=currency,
        favourites=favourites,
        colours=colours,
        churn_at=churn_at,
        decline_at=decline_at,
    )


# --- Orders -----------------------------------------------------------------------------------


@dataclass
class _Line:
    product: _Product
    variant: _Variant
    quantity: int
    tier_min: int = 1
    tier_max: int | None = None
    unit_base: Decimal = Decimal(0)
    unit: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    refunded: int = 0
    id: int = 0


@dataclass
class _Sale:
    buyer: _Buyer
    placed_at: datetime
    method: str
    currency: str
    rate: Decimal
    lines: list[_Line]
    totals: object  # orders.totals.OrderTotals
    shipping: str
    weight: int
    insured: bool
    dropship: bool
    level_name: str
    points: int
    state: str = S.PENDING_PAYMENT
    paid_at: datetime | None = None
    pay_by: datetime | None = None
    updated_at: datetime | None = None
    refunded: Decimal = Decimal(0)
    refunded_at: datetime | None = None
    steps: list[tuple] = field(default_factory=list)  # (at, kind, from, to, label, reason)
    payments: list[dict] = field(default_factory=list)
    earned: int = 0  # points
    id: int = 0
    number: str = ""


class _Staff:
    """Who acts in the history: finance confirms transfers and refunds, a manager ships."""

    def __init__(self):
        def holders(codename):
            permission = Permission.objects.filter(
                content_type__app_label="orders", codename=codename
            ).first()
            users = User.objects.filter(is_active=True, is_staff=True).filter(
                Q(is_superuser=True)
                | Q(groups__permissions=permission)
                | Q(user_permissions=permission)
            )
            return users.distinct().order_by("is_superuser", "pk").first()

        self.confirmer = holders("confirm_payment")
        self.refunder = holders("refund_order")
        self.shipper = holders("ship_order")


def _year_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 1, day=28)


def _night_after(moment: datetime) -> datetime:
    """When a nightly job first sees `moment` passed: 3 o'clock the next night."""
    return (moment + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)


def _season(at: datetime) -> float:
    return SEASON[at.month]


def _growth(at: datetime, start: datetime, end: datetime) -> float:
    share = (at - start) / (end - start) if end > start else 1
    return 1 + GROWTH * min(max(share, 0), 1)


def _rate(currency: str, at: datetime, start: datetime) -> Decimal:
    if currency == settings.WHOLESALE_BASE_CURRENCY:
        return Decimal(1)
    # A slow drift of a few percent, the same for every buyer on a given day.
    days = (at - start).days
    drift = Decimal(str(round(1 + 0.03 * math.sin(days / 58 + len(currency)), 4)))
    return (Decimal(RATES[currency]) * drift).quantize(Decimal("0.00000001"))


def _basket(buyer: _Buyer, at: datetime, catalog: _Catalog, rng) -> list[_Line]:
    """The lines of one order: a few products, mostly from the buyer's favourite categories,
    a few variants of each (their favourite colours first), in whole packs above the MOQ."""
    wanted = 1 + min(int(rng.expovariate(0.6)), 5)
    chosen: dict[int, _Product] = {}
    for _attempt in range(wanted * 3):
        if len(chosen) >= wanted:
            break
        picker = catalog.buying
        if rng.random() < 0.8:
            picker = catalog.by_category.get(rng.choice(buyer.favourites), catalog.buying)
        product = picker.draw(rng, at)
        if product is not None:
            chosen[product.id] = product
    lines = []
    declining = buyer.decline_at is not None and at >= buyer.decline_at
    for product in chosen.values():
        units = 30 * buyer.scale * rng.lognormvariate(0, 0.5) * (0.9 + _season(at) / 5)
        if declining:
            units *= 0.35
        step = product.increment
        total = max(product.moq, step, int(units))
        total = -(-total // step) * step
        weights = [4 if v.option1 in buyer.colours else 1 for v in product.variants]
        count = min(len(product.variants), rng.choice([1, 1, 2, 2, 3, 4]), total // step)
        picked = []
        pool = list(zip(product.variants, weights, strict=True))
        for _pick in range(max(count, 1)):
            variant = _weighted(rng, pool)
            picked.append(variant)
            pool = [(v, w) for v, w in pool if v is not variant] or pool
        packs = total // step
        shares = [packs // len(picked)] * len(picked)
        for extra in range(packs - sum(shares)):
            shares[extra % len(picked)] += 1
        for variant, share in zip(picked, shares, strict=True):
            if share > 0:
                lines.append(_Line(product=product, variant=variant, quantity=share * step))
    return lines


def _priced(lines: list[_Line]) -> Decimal:
    """Each line at its product's tier, reached by all the product's lines together
    (catalog.pricing, as the cart prices it); the goods total in the base currency."""
    units = defaultdict(int)
    for line in lines:
        units[line.product.id] += line.quantity
    base = settings.WHOLESALE_BASE_CURRENCY
    for line in lines:
        priced = quote(
            line.product.tiers, units[line.product.id], base, variant_price=line.variant.price
        )
        line.unit_base = priced.unit_price.amount
        line.tier_min, line.tier_max = priced.tier_min_quantity, priced.tier_max_quantity
    return sum((line.unit_base * line.quantity for line in lines), Decimal(0))


def _shipping_cost(code: str, weight: int, goods: Decimal) -> Decimal:
    kilos = max(math.ceil(weight / 1000), 1)
    if code == "sea-freight":
        cost = Decimal(60) + Decimal("0.9") * kilos
    elif code == "express":
        cost = Decimal(18) + Decimal(7) * (kilos - 1)
    else:
        cost = Decimal(9) + Decimal("3.5") * (kilos - 1)
        if goods >= 3000:
            cost = Decimal(0)
    return cost.quantize(Decimal("0.01"))


class _History:
    """One buyer's life with the shop, in order of time: orders and what followed them
    (payments, states, refunds), the points ledger and the level changes."""

    def __init__(self, buyer, *, rng, catalog, start, end, levels, rules, staff):
        self.buyer = buyer
        self.rng = rng
        self.catalog = catalog
        self.start, self.end = start, end
        self.levels = levels
        self.rules = rules
        self.staff = staff
        self.balance = 0
        self.credits: list[list] = []  # [expires_at or None, points left], soonest first
        self.entries: list[tuple] = []  # (at, kind, points, reason, sale, expires_at)
        self.events: list[tuple] = []  # a heap of (at, sequence, callable): what happens later
        self.sequence = 0
        self.level = level_default(levels)
        self.level_since = buyer.joined

    # The points ledger, as members.points writes it.

    def _credit(self, at, kind, points, reason, sale, expires_at):
        self.entries.append((at, kind, points, reason, sale, expires_at))
        self.balance += points
        self.credits.append([expires_at, points])
        self.credits.sort(key=lambda c: (c[0] is None, c[0] or at))
        if expires_at is not None:
            self._schedule(_night_after(expires_at), self._expire)

    def _debit(self, at, kind, points, reason, sale):
        self.entries.append((at, kind, -points, reason, sale, None))
        self.balance -= points
        for credit in self.credits:
            used = min(credit[1], points)
            credit[1] -= used
            points -= used
            if not points:
                break
        self.credits = [c for c in self.credits if c[1] > 0]

    def _expire(self, night):
        """The nightly expiry job (members.points.points_expire): what is left of the credits
        past their date goes."""
        lapsed = sum(left for expires_at, left in self.credits if expires_at and expires_at < night)
        if lapsed:
            self._debit(night, Kind.EXPIRE, lapsed, _("Points past their expiry date"), None)

    # The level, as orders.membership recomputes it.

    def _figures(self, at):
        try:
            since = at.replace(year=at.year - 1)
        except ValueError:
            since = at.replace(year=at.year - 1, day=28)
        spend, count = Decimal(0), 0
        for sale in self.buyer.sales:
            if sale.paid_at is None or not since <= sale.paid_at <= at:
                continue
            if sale.refunded_at is not None and sale.refunded_at <= at and sale.state == S.REFUNDED:
                continue
            refunded = sale.refunded if sale.refunded_at and sale.refunded_at <= at else 0
            spend += sale.totals.grand_total_base.amount - Decimal(refunded) / sale.rate
            count += 1
        return quantize(max(spend, Decimal(0)), settings.WHOLESALE_BASE_CURRENCY), count

    def _recompute(self, at, reason, sale=None):
        spend, count = self._figures(at)
        level = level_for(self.levels, spend, count)
        if (level.pk if level else None) != (self.level.pk if self.level else None):
            self.buyer.level_changes.append((at, self.level, level, spend, count, reason, sale))
            self.level, self.level_since = level, at

    def _review(self, night):
        """The nightly level review (members_level_recompute_all): levels lapse as paid
        orders age past twelve months."""
        self._recompute(night, _("Nightly review of the paid orders of the last 12 months."))

    def _multiplier(self):
        return self.level.points_multiplier if self.level is not None else Decimal(1)

    # Time.

    def _schedule(self, at, action):
        self.sequence += 1
        heapq.heappush(self.events, (at, self.sequence, action))

    def _advance(self, until):
        """Run what happens before `until` (payments, shipping, refunds), oldest first."""
        while self.events and self.events[0][0] <= until:
            at, _sequence, action = heapq.heappop(self.events)
            action(at)

    def run(self):
        buyer = self.buyer
        at = max(buyer.joined, self.start) + timedelta(days=self.rng.uniform(0.5, buyer.interval))
        while at < self.end and (buyer.churn_at is None or at < buyer.churn_at):
            self._advance(at)
            self._order(at)
            gap = buyer.interval * self.rng.lognormvariate(0, 0.3)
            gap /= _season(at) * _growth(at, self.start, self.end)
            if buyer.decline_at is not None and at >= buyer.decline_at:
                gap *= 1.7
            at += timedelta(days=max(gap, 2), hours=self.rng.uniform(-6, 6))
        self._advance(self.end)
        buyer.level, buyer.level_since = self.level, self.level_since

    # One order and its future.

    def _order(self, at):
        buyer, rng = self.buyer, self.rng
        lines = _basket(buyer, at, self.catalog, rng)
        if not lines:
            return
        base = settings.WHOLESALE_BASE_CURRENCY
        goods_base = _priced(lines)
        minimum = settings.WHOLESALE_MIN_ORDER_AMOUNT
        if goods_base < minimum:
            # Checkout refuses an order below the minimum: this buyer would have bought more.
            factor = math.ceil(minimum / goods_base)
            for line in lines:
                line.quantity *= factor
            goods_base = _priced(lines)
        weight = sum(line.variant.weight * line.quantity for line in lines)
        dropship = rng.random() < buyer.dropship
        if weight > 40_000:
            code = "sea-freight"
        elif dropship or rng.random() < 0.55:
            code = "express"
        else:
            code = "economy-post"
        insured = rng.random() < 0.85
        insurance = Decimal(0)
        if insured:
            insurance = max(
                goods_base * settings.WHOLESALE_INSURANCE_PERCENT / 100,
                settings.WHOLESALE_INSURANCE_MINIMUM,
            ).quantize(Decimal("0.01"))
        fee = settings.WHOLESALE_DROPSHIP_FEE if dropship else Decimal(0)
        percent = self.level.discount_percent if self.level is not None else Decimal(0)
        level_name = self.level.name if percent > 0 else ""
        points = 0
        if self.balance >= self.rules.min_redeem and rng.random() < 0.3:
            after_level = goods_base - quantize(goods_base * percent / 100, base)
            limits = redeem_limits(balance=self.balance, goods_base=after_level, rules=self.rules)
            if limits.possible:
                points = rng.randint(limits.minimum, limits.maximum)
        currency = buyer.currency
        rate = _rate(currency, at, self.start)
        totals = order_totals(
            lines=[LineAmount(line.quantity, Money(line.unit_base, base)) for line in lines],
            shipping=Money(_shipping_cost(code, weight, goods_base), base),
            insurance=Money(insurance, base),
            fee=Money(fee, base),
            discount=Money(points_value(points, self.rules), base),
            level_percent=percent,
            currency=currency,
            rate=rate,
        )
        for line, charged in zip(lines, totals.lines, strict=True):
            line.unit, line.total = charged.unit_price.amount, charged.total.amount
        method = PaymentMethod.CARD if rng.random() < buyer.card else PaymentMethod.BANK_TRANSFER
        sale = _Sale(
            buyer=buyer,
            placed_at=at,
            method=method,
            currency=currency,
            rate=rate,
            lines=lines,
            totals=totals,
            shipping=code,
            weight=weight,
            insured=insured,
            dropship=dropship,
            level_name=level_name,
            points=points,
            updated_at=at,
        )
        buyer.sales.append(sale)
        sale.payments.append({"method": method, "status": Payment.Status.PENDING})
        sale.steps.append(
            (at, Event.PLACED, "", S.PENDING_PAYMENT, buyer.email, _("Placed by the buyer."))
        )
        if points:
            self._debit(at, Kind.REDEEM, points, _("Redeemed on order %(number)s"), sale)
        self._payment_plan(sale)

    def _payment_plan(self, sale):
        """How the order gets paid, or not: the payment (and the cancellation) to come."""
        rng, roll = self.rng, self.rng.random()
        card_hours = settings.WHOLESALE_UNPAID_CARD_HOURS
        transfer_hours = settings.WHOLESALE_UNPAID_TRANSFER_HOURS
        if sale.method == PaymentMethod.CARD:
            sale.pay_by = sale.placed_at + timedelta(hours=card_hours)
            if roll < 0.05:
                # Declined; some buyers give up, the others pay by bank transfer instead.
                payment = sale.payments[0]
                payment["status"] = Payment.Status.FAILED
                payment["reason"] = _("Your card was declined.")
                if roll < 0.025:
                    self._schedule(sale.pay_by, lambda at: self._cancel(sale, at))
                    return
                sale.method = PaymentMethod.BANK_TRANSFER
                sale.pay_by = sale.placed_at + timedelta(hours=transfer_hours)
                sale.payments.append({"method": sale.method, "status": Payment.Status.PENDING})
                paid = sale.placed_at + timedelta(days=rng.uniform(0.5, 4))
                self._schedule(paid, lambda at: self._pay(sale, at))
                return
            if roll < 0.07:
                self._schedule(sale.pay_by, lambda at: self._cancel(sale, at))  # abandoned
                return
            if roll < 0.13:
                sale.steps.append(
                    (sale.placed_at + timedelta(minutes=2), Event.NOTE, "", "", "stripe",
                     _("The card was declined: insufficient funds."))
                )  # fmt: skip
            paid = sale.placed_at + timedelta(minutes=rng.uniform(3, 40))
            self._schedule(paid, lambda at: self._pay(sale, at))
            return
        sale.pay_by = sale.placed_at + timedelta(hours=transfer_hours)
        if roll < 0.04:
            self._schedule(sale.pay_by, lambda at: self._cancel(sale, at))
            return
        paid = sale.placed_at + timedelta(days=rng.uniform(0.3, 5))
        self._schedule(paid, lambda at: self._pay(sale, at))

    def _move(self, sale, at, to_state, label, reason):
        sale.steps.append((at, Event.TRANSITION, sale.state, to_state, label, reason))
        sale.state = to_state
        sale.updated_at = at

    def _cancel(self, sale, at):
        self._move(sale, at, S.CANCELLED, "system", _("Not paid in time."))
        for payment in sale.payments:
            if payment["status"] == Payment.Status.PENDING:
                payment["status"] = Payment.Status.CANCELLED
        self._give_back(sale, at, Decimal(1))

    def _pay(self, sale, at):
        rng = self.rng
        card = sale.method == PaymentMethod.CARD
        confirmer = self.staff.confirmer
        if not card and confirmer is None:
            return  # nobody here may confirm a transfer: it stays waiting
        label = "stripe" if card else confirmer.email
        payment = next(p for p in sale.payments if p["method"] == sale.method)
        payment.update(
            status=Payment.Status.SUCCEEDED,
            succeeded_at=at,
            confirmed_by=None if card else confirmer,
        )
        amount = f"{sale.totals.grand_total.amount} {sale.currency}"
        sale.steps.append(
            (at, Event.PAYMENT, "", "", label,
             _("%(method)s payment of %(amount)s received.")
             % {"method": PaymentMethod(sale.method).label, "amount": amount})
        )  # fmt: skip
        self._move(sale, at, S.PAID, label, _("Payment received."))
        sale.paid_at = at
        earned = points_for(sale.totals.grand_total_base.amount, self._multiplier(), self.rules)
        if earned > 0:
            expires = (
                at + timedelta(days=self.rules.expiry_days) if self.rules.expiry_days else None
            )
            self._credit(at, Kind.EARN, earned, _("Order %(number)s paid"), sale, expires)
        sale.earned = max(earned, 0)
        self._recompute(at, _("Order %(number)s paid."), sale)
        self._schedule(_night_after(_year_after(at)), self._review)
        shipper = self.staff.shipper.email if self.staff.shipper else "system"
        shipped = at + timedelta(days=rng.uniform(1, 4))
        if rng.random() < 0.5:
            processing = at + timedelta(hours=rng.uniform(2, 20))
            self._schedule(processing, lambda when: self._process(sale, when, shipper))
        self._schedule(shipped, lambda when: self._ship(sale, when, shipper))
        roll = rng.random()
        if roll < 0.015:
            refund_at = at + timedelta(days=rng.uniform(1, 25))
            self._schedule(refund_at, lambda when: self._refund(sale, when, whole=True))
        elif roll < 0.045:
            high = SHIPPING[sale.shipping][2]
            refund_at = shipped + timedelta(days=high + rng.uniform(1, 20))
            self._schedule(refund_at, lambda when: self._refund(sale, when, whole=False))

    def _process(self, sale, at, shipper):
        if sale.state == S.PAID:
            self._move(sale, at, S.PROCESSING, shipper, _("Being packed."))

    def _ship(self, sale, at, shipper):
        if sale.state not in (S.PAID, S.PROCESSING):
            return  # refunded before it left
        self._move(sale, at, S.SHIPPED, shipper, _("Shipped."))
        _name, low, high = SHIPPING[sale.shipping]
        delivered = at + timedelta(days=self.rng.uniform(low, high))
        self._schedule(delivered, lambda when: self._deliver(sale, when))

    def _deliver(self, sale, at):
        if sale.state != S.SHIPPED:
            return
        self._move(sale, at, S.DELIVERED, "system", _("Delivered, the carrier says."))
        completed = at + timedelta(days=14)
        self._schedule(completed, lambda when: self._complete(sale, when))

    def _complete(self, sale, at):
        if sale.state == S.DELIVERED:
            self._move(sale, at, S.COMPLETED, "system", _("No problem reported in 14 days."))

    def _refund(self, sale, at, *, whole):
        if sale.state in (S.REFUNDED, S.CANCELLED) or self.staff.refunder is None:
            return
        grand = sale.totals.grand_total.amount
        if whole:
            if sale.earned and self.balance == 0:
                return  # the points could not be taken back: keep the example simple
            amount = grand
            for line in sale.lines:
                line.refunded = line.quantity
        else:
            line = self.rng.choice(sale.lines)
            units = max(1, min(line.quantity // 4, self.rng.randint(1, 10)))
            amount = min(line.unit * units, grand)
            line.refunded = units
        if amount <= 0:
            return
        sale.refunded, sale.refunded_at = amount, at
        who = self.staff.refunder.email
        told = _("Refund of %(amount)s.") % {"amount": f"{amount} {sale.currency}"}
        sale.steps.append((at, Event.REFUND, "", "", who, told))
        if whole:
            self._move(sale, at, S.REFUNDED, who, _("Refunded in full."))
        sale.updated_at = at
        self._give_back(sale, at, Decimal(1) if whole else min(amount / grand, Decimal(1)))
        self._recompute(at, _("Refund on order %(number)s."), sale)

    def _give_back(self, sale, at, share):
        """orders.points.order_points_give_back: the share of the earned points taken back
        (as far as the balance goes), the same share of the points spent returned."""
        why = _("Order %(number)s given back")
        due = min(
            int((Decimal(sale.earned) * share).to_integral_value(rounding=ROUND_FLOOR)),
            self.balance,
        )
        if due > 0:
            self._debit(at, Kind.REVERSE, due, why, sale)
        owed = int((Decimal(sale.points) * share).to_integral_value(rounding=ROUND_FLOOR))
        if owed > 0:
            self._credit(at, Kind.REVERSE, owed, why, sale, None)


# --- Writing ----------------------------------------------------------------------------------


class _Writer:
    """Inserts rows given as {attname: value} dicts, many at a time.

    On PostgreSQL with COPY (a hundred thousand rows a second where bulk_create manages a
    fraction of that), the primary keys taken from the table's sequence first when the caller
    needs them. Elsewhere (the demo's SQLite) with bulk_create, after which the dates Django
    stamps with the present on insert (auto_now, auto_now_add) are put back to the history's.
    `derived(pk)` gives the values that follow from the primary key (an order's number).
    """

    def __init__(self):
        self.copy = connection.vendor == "postgresql"

    def insert(self, model, rows: list[dict], *, ids: bool = False, derived=None) -> list[int]:
        if not rows:
            return []
        if self.copy:
            return self._copy(model, rows, ids=ids or derived is not None, derived=derived)
        return self._bulk(model, rows, derived=derived)

    def _copy(self, model, rows, *, ids, derived) -> list[int]:
        meta = model._meta
        keys = []
        if ids:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, len(rows)],
                )
                keys = [row[0] for row in cursor.fetchall()]
            for row, pk in zip(rows, keys, strict=True):
                row[meta.pk.attname] = pk
                if derived is not None:
                    row.update(derived(pk))
        names = list(rows[0])
        # Columns the rows leave out get what Django would have put there: their default.
        now = timezone.now()
        missing = [
            (f.attname, now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
             else f.get_default())
            for f in meta.concrete_fields
            if f.attname not in rows[0] and not f.primary_key and not f.generated
        ]  # fmt: skip
        columns = [meta.get_field(name).column for name in names] + [
            meta.get_field(name).column for name, _value in missing
        ]
        defaults = [value for _name, value in missing]
        statement = "COPY {} ({}) FROM STDIN".format(
            connection.ops.quote_name(meta.db_table),
            ", ".join(connection.ops.quote_name(column) for column in columns),
        )
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[name] for name in names] + defaults)
        return keys

    def _bulk(self, model, rows, *, derived) -> list[int]:
        objects = model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)
        stamped = [
            f.attname
            for f in model._meta.concrete_fields
            if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
            and f.attname in rows[0]
        ]
        fields = list(stamped)
        for obj, row in zip(objects, rows, strict=True):
            for name in stamped:
                setattr(obj, name, row[name])
            if derived is not None:
                extra = derived(obj.pk)
                fields = stamped + list(extra)
                for name, value in extra.items():
                    setattr(obj, name, value)
        if fields:
            model.objects.bulk_update(objects, fields, batch_size=500)
        return [obj.pk for obj in objects]


def _write_buyers(buyers: list[_Buyer], rng, writer: _Writer) -> None:
    password = make_password(None)  # unusable: history buyers never log in
    users = writer.insert(
        User,
        [
            {
                "email": b.email,
                "first_name": b.first_name,
                "last_name": b.last_name,
                "password": password,
                "date_joined": b.joined,
                "last_login": b.sales[-1].placed_at if b.sales else None,
            }
            for b in buyers
        ],
        ids=True,
    )
    for buyer, pk in zip(buyers, users, strict=True):
        buyer.user_id = pk
    distributors = writer.insert(
        Distributor,
        [
            {
                "user_id": b.user_id,
                "company_name": b.company,
                "contact_name": f"{b.first_name} {b.last_name}",
                "country": b.country,
                "business_type": b.business_type,
                "phone": f"+{PHONE_CODES.get(b.country, '1')} {rng.randint(200, 999)} "
                f"{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "website": ""
                if b.business_type == BusinessType.OFFLINE_SHOP
                else f"https://{slugify(b.company.split()[0])}-{b.user_id}.example",
                "status": Distributor.Status.APPROVED,
                "status_changed_at": b.joined,
                "owner_id": b.owner_id,
                "owner_since": b.joined if b.owner_id else None,
                "level_id": b.level.pk if b.level else None,
                "level_since": b.level_since,
                "buyer_type": "big" if b.scale > 1.5 else "small",
                "grade": "A" if b.sales else "C",
                "created_at": b.joined,
                "updated_at": b.level_since or b.joined,
            }
            for b in buyers
        ],
        ids=True,
    )
    for buyer, pk in zip(buyers, distributors, strict=True):
        buyer.distributor_id = pk
    writer.insert(
        OwnershipChange,
        [
            {
                "distributor_id": b.distributor_id,
                "to_owner_id": b.owner_id,
                "source": b.owner_source,
                "reason": _("Signed up."),
                "created_at": b.joined,
            }
            for b in buyers
            if b.owner_id
        ],
    )
    profiles = dict(SalesProfile.objects.values_list("user_id", "pk"))
    visits = []
    for b in buyers:
        if b.owner_source == OwnershipChange.Source.REFERRAL and b.owner_id in profiles:
            # A referral link is visited several times for each signup it brings.
            for _visit in range(rng.randint(2, 12)):
                visited = b.joined - timedelta(days=rng.uniform(0, 30))
                visits.append({"sales_profile_id": profiles[b.owner_id], "visited_at": visited})
    writer.insert(ReferralVisit, visits)


def _text(reason: str, sale: _Sale | None) -> str:
    return reason % {"number": sale.number} if sale is not None else reason


def _write_levels(buyers: list[_Buyer], writer: _Writer) -> None:
    writer.insert(
        LevelChange,
        [
            {
                "distributor_id": b.distributor_id,
                "from_level_id": old.pk if old else None,
                "to_level_id": new.pk if new else None,
                "spend": spend,
                "order_count": count,
                "reason": _text(reason, sale)[:200],
                "created_at": at,
            }
            for b in buyers
            for at, old, new, spend, count, reason, sale in b.level_changes
        ],
    )


def _order_row(sale: _Sale, base: str, rng) -> dict:
    buyer, totals = sale.buyer, sale.totals
    name, low, high = SHIPPING[sale.shipping]
    return {
        "member_id": buyer.user_id,
        "email": buyer.email,
        "company_name": buyer.company,
        "state": sale.state,
        "payment_method": sale.method,
        "checkout_key": uuid.UUID(int=rng.getrandbits(128)),
        "currency": sale.currency,
        "base_currency": base,
        "exchange_rate": sale.rate,
        "goods_total": totals.goods.amount,
        "discount_total": totals.discount.amount,
        "level_name": sale.level_name,
        "level_discount_percent": totals.level_percent,
        "level_discount_total": totals.level_discount.amount,
        "points_redeemed": sale.points,
        "points_discount_total": totals.other_discount.amount,
        "shipping_total": totals.shipping.amount,
        "insurance_total": totals.insurance.amount,
        "fee_total": totals.fee.amount,
        "grand_total": totals.grand_total.amount,
        "grand_total_base": totals.grand_total_base.amount,
        "refunded_total": sale.refunded,
        "shipping_method_code": sale.shipping,
        "shipping_method_name": name,
        "delivery_min_days": low,
        "delivery_max_days": high,
        "weight_grams": sale.weight,
        "is_insured": sale.insured,
        "is_dropship": sale.dropship,
        "ship_name": f"{buyer.first_name} {buyer.last_name}",
        "ship_company": "" if sale.dropship else buyer.company,
        "ship_line1": f"{buyer.user_id % 200 + 1} Harbour Street",
        "ship_city": "Springfield",
        "ship_country": buyer.country,
        "bill_address": f"{buyer.company}\n{buyer.first_name} {buyer.last_name}",
        "holds_stock": False,
        "placed_at": sale.placed_at,
        "pay_by": sale.pay_by,
        "paid_at": sale.paid_at,
        "updated_at": sale.updated_at,
    }


def _write_orders(sales: list[_Sale], staff: _Staff, rng, writer: _Writer) -> None:
    base = settings.WHOLESALE_BASE_CURRENCY
    prefix = settings.WHOLESALE_ORDER_NUMBER_PREFIX

    def number(pk):
        # As checkout numbers orders (orders.checkout._next_number): from the primary key, so
        # no order placed later can ever take the same number.
        return {"number": f"{prefix}{100000 + pk}"}

    ids = writer.insert(Order, [_order_row(sale, base, rng) for sale in sales], derived=number)
    for sale, pk in zip(sales, ids, strict=True):
        sale.id, sale.number = pk, number(pk)["number"]
    flat = [(sale, position, line) for sale in sales for position, line in enumerate(sale.lines)]
    line_ids = writer.insert(
        OrderLine,
        [
            {
                "order_id": sale.id,
                "variant_id": line.variant.id,
                "product_id_snapshot": line.product.id,
                "product_name": line.product.name,
                "sku": line.variant.sku,
                "variant_label": line.variant.label,
                "quantity": line.quantity,
                "tier_min_quantity": line.tier_min,
                "tier_max_quantity": line.tier_max,
                "unit_price_base": line.unit_base,
                "unit_price": line.unit,
                "line_total": line.total,
                "weight_grams": line.variant.weight,
                "refunded_quantity": line.refunded,
                "position": position,
            }
            for sale, position, line in flat
        ],
        ids=True,
    )
    for (_sale, _position, line), pk in zip(flat, line_ids, strict=True):
        line.id = pk
    writer.insert(
        OrderEvent,
        [
            {
                "order_id": sale.id,
                "kind": kind,
                "from_state": from_state,
                "to_state": to_state,
                "actor_id": sale.buyer.user_id if kind == Event.PLACED else None,
                "actor_label": label,
                "reason": _text(reason, sale),
                "created_at": at,
            }
            for sale in sales
            for at, kind, from_state, to_state, label, reason in sorted(
                sale.steps, key=lambda step: step[0]
            )
        ],
    )
    _write_payments(sales, staff, writer)


def _write_payments(sales: list[_Sale], staff: _Staff, writer: _Writer) -> None:
    rows, refunded = [], []
    for sale in sales:
        for payment in sale.payments:
            card = payment["method"] == PaymentMethod.CARD
            confirmer = payment.get("confirmed_by")
            rows.append(
                {
                    "order_id": sale.id,
                    "method": payment["method"],
                    "status": payment["status"],
                    "amount": sale.totals.grand_total.amount,
                    "currency": sale.currency,
                    "provider_id": f"cs_history_{sale.number}" if card else "",
                    "intent_id": f"pi_history_{sale.number}" if card else "",
                    "idempotency_key": f"order-{sale.number}-{payment['method']}",
                    "reference": "" if card else f"TT {sale.number}",
                    "failure_reason": payment.get("reason", ""),
                    "confirmed_by_id": confirmer.pk if confirmer else None,
                    "succeeded_at": payment.get("succeeded_at"),
                    "created_at": sale.placed_at,
                    "updated_at": payment.get("succeeded_at") or sale.updated_at,
                }
            )
            if sale.refunded and payment["status"] == Payment.Status.SUCCEEDED:
                refunded.append((sale, len(rows) - 1))
    payment_ids = writer.insert(Payment, rows, ids=True)
    refund_ids = writer.insert(
        Refund,
        [
            {
                "order_id": sale.id,
                "payment_id": payment_ids[index],
                "amount": sale.refunded,
                "currency": sale.currency,
                "reason": _("Order returned.") if sale.state == S.REFUNDED else _("Damaged units."),
                "status": Refund.Status.SUCCEEDED,
                "provider_id": f"re_history_{sale.number}"
                if rows[index]["method"] == PaymentMethod.CARD
                else "",
                "idempotency_key": f"history-refund-{sale.number}",
                "created_by_id": staff.refunder.pk,
                "created_at": sale.refunded_at,
            }
            for sale, index in refunded
        ],
        ids=True,
    )
    writer.insert(
        RefundLine,
        [
            {
                "refund_id": refund,
                "order_line_id": line.id,
                "quantity": line.refunded,
                "amount": line.total
                if line.refunded == line.quantity
                else line.unit * line.refunded,
            }
            for (sale, _index), refund in zip(refunded, refund_ids, strict=True)
            for line in sale.lines
            if line.refunded
        ],
    )


def _write_points(histories: list[_History], writer: _Writer) -> None:
    entries, accounts = [], []
    for history in histories:
        if not history.entries:
            continue
        member = history.buyer.user_id
        for at, kind, points, reason, sale, expires_at in history.entries:
            entries.append(
                {
                    "member_id": member,
                    "kind": kind,
                    "points": points,
                    "reason": _text(reason, sale)[:200],
                    "order_id": sale.id if sale else None,
                    "order_number": sale.number if sale else "",
                    "expires_at": expires_at,
                    "created_at": at,
                }
            )
        accounts.append({"member_id": member, "balance": history.balance})
    writer.insert(PointsEntry, entries)
    writer.insert(PointsAccount, accounts)


def _write_activity(sales: list[_Sale], catalog: _Catalog, rng, writer: _Writer):
    """What buyers did on the site before ordering: views of what they bought and of what
    they did not, a cart addition per product bought and a few left in the cart, searches
    (a few for things the shop does not sell; some weeks before an order, that led to none),
    and guests browsing and searching."""
    views, adds, searches = [], [], []

    def session():
        return f"{rng.getrandbits(128):032x}"

    def view(product, member, key, at):
        views.append(
            {"product_id": product.id, "member_id": member, "session_key": key, "viewed_at": at}
        )

    def add(product, member, at):
        adds.append({"product_id": product.id, "member_id": member, "added_at": at})

    found = dict(catalog.terms)
    terms = [term for term, count in catalog.terms if count]  # terms that find something
    nothing = [term for term, count in catalog.terms if count == 0]

    def search(term, member, key, searched_at):
        if nothing and rng.random() < 0.12:
            term = rng.choice(nothing)
        searches.append(
            {
                "term": term,
                "results": found.get(term, 1),
                "member_id": member,
                "session_key": key,
                "searched_at": searched_at,
            }
        )

    for sale in sales:
        member, at, key = sale.buyer.user_id, sale.placed_at, session()
        bought = {line.product.id: line.product for line in sale.lines}
        for product in bought.values():
            for _view in range(rng.randint(1, 2)):
                view(product, member, key, at - timedelta(hours=rng.uniform(0.2, 72)))
            add(product, member, at - timedelta(minutes=rng.uniform(3, 120)))
        for _browse in range(rng.randint(1, 3)):
            product = catalog.browsing.draw(rng, at)
            if product is None:
                continue
            seen = at - timedelta(hours=rng.uniform(0.2, 96))
            view(product, member, key, seen)
            if rng.random() < 0.2:  # put in the cart, never ordered
                add(product, member, seen + timedelta(minutes=2))
        for _guest in range(rng.randint(0, 2)):
            product = catalog.browsing.draw(rng, at)
            if product is not None:
                view(product, None, session(), at - timedelta(hours=rng.uniform(0, 200)))
        if rng.random() < 0.6:
            product = rng.choice(list(bought.values()))
            words = [w.lower() for w in product.name.split() if w.lower() in found]
            term = rng.choice(words) if words else product.name.lower()
            search(term, member, key, at - timedelta(hours=rng.uniform(0.5, 48)))
        if terms and rng.random() < 0.3:  # looking around, weeks before ordering
            searched_at = at - timedelta(days=rng.uniform(8, 30))
            search(rng.choice(terms), member, session(), searched_at)
        if terms and rng.random() < 0.5:  # a visitor who is not logged in
            searched_at = at - timedelta(hours=rng.uniform(0, 200))
            search(rng.choice(terms), None, session(), searched_at)
    writer.insert(ProductView, views)
    writer.insert(CartAddition, adds)
    writer.insert(SearchLog, searches)
    return len(views), len(adds), len(searches)


# --- Entry points -----------------------------------------------------------------------------


def history_generate(
    *,
    buyers: int,
    months: int = 12,
    seed: int = 7,
    now: datetime | None = None,
    products=None,
    domain: str = DEMO_DOMAIN,
) -> dict:
    """Write a sales history of `buyers` new distributors (emails @`domain`) over the last
    `months` months up to `now`, from the published products (or the `products` queryset),
    in chunks of buyers, one transaction each. Deterministic for a seed and a catalog.
    Returns how many rows of each kind it wrote."""
    now = now or timezone.now()
    start = now - timedelta(days=round(months * 365.25 / 12))
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    catalog = _catalog(products, rng)
    levels = list(Level.objects.filter(is_active=True))
    rules = points_rules()
    staff = _Staff()
    writer = _Writer()
    # Some salespeople bring more customers than others.
    owners = [
        (owner, 3 if index == 0 else 1 + index % 2)
        for index, owner in enumerate(
            SalesProfile.objects.filter(user__is_active=True, user__is_staff=True)
            .order_by("pk")
            .values_list("user_id", flat=True)
        )
    ]
    first_index = User.objects.filter(email__endswith=f"@{domain}").count()
    written = defaultdict(int)
    for chunk_start in range(0, buyers, CHUNK_BUYERS):
        chunk = [
            _buyer(first_index + index, rng=rng, start=start, end=now, domain=domain,
                   owners=owners, catalog=catalog)
            for index in range(chunk_start, min(buyers, chunk_start + CHUNK_BUYERS))
        ]  # fmt: skip
        histories = []
        for buyer in chunk:
            history = _History(
                buyer, rng=rng, catalog=catalog, start=start, end=now, levels=levels,
                rules=rules, staff=staff,
            )  # fmt: skip
            history.run()
            histories.append(history)
        sales = [sale for buyer in chunk for sale in buyer.sales]
        with transaction.atomic():
            _write_buyers(chunk, rng, writer)
            _write_orders(sales, staff, rng, writer)
            _write_levels(chunk, writer)
            _write_points(histories, writer)
            activity = _write_activity(sales, catalog, rng, writer)
        written["buyers"] += len(chunk)
        written["orders"] += len(sales)
        written["lines"] += sum(len(sale.lines) for sale in sales)
        written["views"] += activity[0]
        written["cart_additions"] += activity[1]
        written["searches"] += activity[2]
        written["churners"] += sum(buyer.churn_at is not None for buyer in chunk)
        written["points_entries"] += sum(len(history.entries) for history in histories)
        written["level_changes"] += sum(len(buyer.level_changes) for buyer in chunk)
    return dict(written)


def _launches_spread(now: datetime, *, keep_recent: int = 12) -> None:
    """The demo catalog is published over a few weeks (seed_demo); a year of sales needs a
    catalog that grew over the year. Every published product but the `keep_recent` newest
    (the storefront's new arrivals) is moved back to a launch date spread over the last 14
    months, most of them early on, deterministically by product."""
    published = list(
        Product.objects.filter(status=Product.Status.PUBLISHED, published_at__lte=now)
        .order_by("-published_at", "-pk")
        .values_list("pk", flat=True)
    )
    for pk in published[keep_recent:]:
        days = 45 + 380 * random.Random(f"launch:{pk}").random() ** 0.6  # noqa: S311
        Product.objects.filter(pk=pk).update(published_at=now - timedelta(days=days))


def history_seed_demo(*, buyers: int = DEMO_BUYERS) -> dict:
    """The demo's year of sales (about 300 buyers and 4,000 orders), once: nothing happens
    when its buyers exist already. Returns what history_generate wrote, or {}."""
    if User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exists():
        return {}
    now = timezone.now()
    with transaction.atomic():
        _launches_spread(now)
        return history_generate(buyers=buyers, months=12, seed=7, now=now)

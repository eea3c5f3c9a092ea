"""``manage.py seed_demo``: the demo shop's accounts, category tree and about 80 products.

Idempotent: accounts, categories and products are found by their natural keys (email, slug)
and only what is missing is created, so a second run writes nothing and takes a moment.
Deterministic: every product's data comes from a random generator seeded with a fixed number
and its slug, so the same product always gets the same variants, prices and pictures.
Dates are relative to the day of the run (published over the last six weeks, a few drafts,
a few scheduled). Pictures are drawn with Pillow and go through the real upload pipeline.
"""

from __future__ import annotations

import io
import random
import textwrap
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from analytics.history import history_seed_demo
from analytics.rollups import rollups_refresh
from catalog.images import product_image_add
from catalog.models import Category, PriceTier, Product, Variant
from catalog.services import product_refresh
from catalog.translations_demo import translations_seed_demo
from members.models import Address, BusinessType, Distributor, User
from orders.checkout import order_place
from orders.lifecycle import bank_transfer_confirm, shipment_add
from orders.models import (
    ExportProfile,
    Order,
    OrderState,
    Shipment,
    ShippingMethod,
    ShippingRate,
    ShippingZone,
)
from orders.services import cart_add_lines
from orders.tracking import provider_default, tracking_update
from staff import roles
from staff.inquiries import inquiries_seed_demo
from staff.models import OwnershipChange, SalesProfile
from staff.services import owner_assign
from staff.showcase_demo import showcase_seed_demo

SEED = 20240601
PASSWORD = "demo-pass-2024"  # noqa: S105 - the documented demo password
IMAGE_SIDE = 800

# email, first name, last name, role (a group of staff.roles; the super admin is a superuser)
STAFF = [
    ("admin@demo.test", "Ada", "Admin", None),
    ("manager@demo.test", "Ming", "Zhou", roles.MANAGER),
    ("finance@demo.test", "Fang", "Li", roles.FINANCE),
    ("editor@demo.test", "Eddie", "Wang", roles.EDITOR),
    ("service@demo.test", "Sunny", "Chen", roles.CUSTOMER_SERVICE),
    ("sales1@demo.test", "Lily", "Zhang", roles.SALES),
    ("sales2@demo.test", "Kevin", "Liu", roles.SALES),
]

BUYERS = [
    {
        "email": "buyer1@demo.test",
        "owner": "sales1@demo.test",
        "first_name": "Olivia",
        "last_name": "Hart",
        "company_name": "Brightside Goods Ltd",
        "country": "GB",
        "business_type": BusinessType.ONLINE_SHOP,
        "phone": "+44 20 7946 0958",
        "website": "https://brightside-goods.example",
        "tax_number": "GB123456789",
    },
    {
        "email": "buyer2@demo.test",
        "owner": "sales2@demo.test",
        "first_name": "Javier",
        "last_name": "Romero",
        "company_name": "Casa Nova Distribuciones SL",
        "country": "ES",
        "business_type": BusinessType.OFFLINE_SHOP,
        "phone": "+34 912 345 678",
        "website": "",
        "tax_number": "ESB12345678",
    },
]

# Each buyer's own delivery address, and for the dropshipper one end customer.
ADDRESSES = {
    "buyer1@demo.test": [
        {
            "name": "Olivia Hart",
            "company": "Brightside Goods Ltd",
            "line1": "Unit 4, Canal Side Works",
            "line2": "18 Wharf Road",
            "city": "London",
            "postal_code": "N1 7GR",
            "country": "GB",
            "phone": "+44 20 7946 0958",
            "is_default": True,
        },
        {
            "name": "Harriet Cole",
            "line1": "7 Orchard Lane",
            "city": "Bristol",
            "postal_code": "BS1 5TR",
            "country": "GB",
            "phone": "+44 117 496 0123",
            "is_end_customer": True,
        },
    ],
    "buyer2@demo.test": [
        {
            "name": "Javier Romero",
            "company": "Casa Nova Distribuciones SL",
            "line1": "Calle de Alcalá 123",
            "city": "Madrid",
            "region": "Madrid",
            "postal_code": "28009",
            "country": "ES",
            "phone": "+34 912 345 678",
            "is_default": True,
        },
    ],
}

# Shipping templates: code, name, position.
SHIPPING_METHODS = [
    ("economy-post", "Economy post", 0),
    ("express", "Express courier", 1),
    ("sea-freight", "Sea freight (LCL)", 2),
]
# name, countries; the last zone serves every country the others do not.
SHIPPING_ZONES = [
    ("United Kingdom", ["GB"]),
    (
        "European Union",
        [
            "AT",
            "BE",
            "BG",
            "CY",
            "CZ",
            "DE",
            "DK",
            "EE",
            "ES",
            "FI",
            "FR",
            "GR",
            "HR",
            "HU",
            "IE",
            "IT",
            "LT",
            "LU",
            "LV",
            "MT",
            "NL",
            "PL",
            "PT",
            "RO",
            "SE",
            "SI",
            "SK",
        ],
    ),
    ("North America", ["US", "CA", "MX"]),
    ("Oceania", ["AU", "NZ"]),
    ("Middle East", ["IL", "AE", "SA", "QA", "KW", "BH", "OM", "JO"]),
    ("Rest of the world", None),
]
# zone -> method -> (first g, first price, step g, step price, free from, min days, max days)
SHIPPING_RATES = {
    "United Kingdom": {
        "economy-post": (500, "9.00", 500, "3.20", "800", 8, 15),
        "express": (500, "22.00", 500, "6.50", None, 3, 5),
        "sea-freight": (20000, "180.00", 5000, "28.00", None, 35, 45),
    },
    "European Union": {
        "economy-post": (500, "8.50", 500, "3.00", "800", 10, 18),
        "express": (500, "21.00", 500, "6.00", None, 3, 6),
        "sea-freight": (20000, "170.00", 5000, "26.00", None, 35, 50),
    },
    "North America": {
        "economy-post": (500, "10.00", 500, "3.80", "1000", 10, 20),
        "express": (500, "24.00", 500, "7.00", None, 3, 6),
        "sea-freight": (20000, "160.00", 5000, "25.00", None, 25, 40),
    },
    "Oceania": {
        "economy-post": (500, "9.50", 500, "3.50", "1000", 10, 20),
        "express": (500, "23.00", 500, "6.80", None, 4, 7),
    },
    "Middle East": {
        "economy-post": (500, "11.00", 500, "4.00", None, 12, 25),
        "express": (500, "25.00", 500, "7.50", None, 4, 8),
    },
    "Rest of the world": {
        "economy-post": (500, "12.00", 500, "4.50", None, 15, 30),
        "express": (500, "28.00", 500, "8.00", None, 5, 10),
    },
}

# slug, name, parent slug, description
CATEGORIES = [
    ("apparel", "Apparel", None, "Blank and printed basics for print-on-demand and boutiques."),
    ("t-shirts", "T-shirts", "apparel", "Cotton and blended tees in core colours."),
    ("hoodies", "Hoodies", "apparel", "Fleece and French terry hoodies."),
    ("bags", "Bags", None, "Totes, backpacks and pouches."),
    ("phone-accessories", "Phone accessories", None, "Cases, cables, chargers and mounts."),
    ("home-kitchen", "Home & kitchen", None, "Everyday kitchenware and home goods."),
    ("jewelry", "Jewelry", None, "Stainless steel and plated fashion jewelry."),
    ("toys", "Toys", None, "Sensory toys, plush and building sets."),
    ("beauty-tools", "Beauty tools", None, "Brushes, rollers and hair accessories."),
    ("pet-supplies", "Pet supplies", None, "Collars, bowls and toys for cats and dogs."),
    ("stationery", "Stationery", None, "Notebooks, pens and desk accessories."),
    ("sports", "Sports", None, "Fitness accessories for home and gym."),
]

COLOURS = {
    "Black": (30, 30, 34),
    "White": (240, 240, 236),
    "Navy": (28, 42, 84),
    "Heather grey": (160, 162, 166),
    "Sand": (214, 196, 160),
    "Forest green": (36, 86, 58),
    "Burgundy": (116, 28, 44),
    "Sky blue": (120, 180, 226),
    "Pink": (240, 160, 190),
    "Mustard": (214, 168, 40),
    "Lilac": (190, 164, 220),
    "Orange": (240, 120, 40),
}
FINISHES = {"Gold": (212, 175, 55), "Silver": (192, 192, 200), "Rose gold": (222, 150, 130)}
APPAREL_SIZES = ["S", "M", "L", "XL", "XXL"]


@dataclass(frozen=True)
class Line:
    """How the products of one category look: options, prices and weights."""

    code: str
    option1: str
    values1: tuple[str, ...]
    option2: str = ""
    values2: tuple[str, ...] = ()
    price: tuple[float, float] = (1.0, 10.0)
    weight: tuple[int, int] = (50, 500)


LINES = {
    "t-shirts": Line("TS", "Colour", tuple(COLOURS), "Size", tuple(APPAREL_SIZES), (2.8, 6.5)),
    "hoodies": Line(
        "HD", "Colour", tuple(COLOURS), "Size", tuple(APPAREL_SIZES), (8.5, 16.0), (450, 800)
    ),
    "bags": Line("BG", "Colour", tuple(COLOURS), price=(1.6, 14.0), weight=(80, 900)),
    "phone-accessories": Line(
        "PH",
        "Colour",
        ("Black", "White", "Sky blue", "Pink", "Lilac", "Forest green"),
        "Model",
        ("iPhone 15", "iPhone 15 Pro", "iPhone 16", "Galaxy S24", "Pixel 9"),
        (0.6, 7.5),
        (20, 150),
    ),
    "home-kitchen": Line("HK", "Colour", tuple(COLOURS), price=(1.2, 9.0), weight=(100, 900)),
    "jewelry": Line("JW", "Finish", tuple(FINISHES), price=(0.5, 4.5), weight=(5, 40)),
    "toys": Line("TY", "Colour", tuple(COLOURS), price=(0.7, 12.0), weight=(30, 800)),
    "beauty-tools": Line("BT", "Colour", tuple(COLOURS), price=(0.4, 6.0), weight=(20, 300)),
    "pet-supplies": Line(
        "PT", "Colour", tuple(COLOURS), "Size", ("S", "M", "L"), (0.8, 7.0), (30, 600)
    ),
    "stationery": Line("ST", "Colour", tuple(COLOURS), price=(0.3, 4.0), weight=(20, 400)),
    "sports": Line(
        "SP", "Colour", tuple(COLOURS), "Size", ("S/M", "L/XL"), (1.0, 11.0), (40, 1200)
    ),
}

PRODUCTS = {
    "t-shirts": [
        "Heavyweight Cotton Tee",
        "Oversized Drop-shoulder Tee",
        "Organic Cotton Crew Tee",
        "V-neck Slub Tee",
        "Acid Wash Vintage Tee",
        "Kids Graphic Tee",
        "Performance Dry-fit Tee",
        "Long-sleeve Waffle Tee",
    ],
    "hoodies": [
        "Fleece Pullover Hoodie",
        "Zip-up Hoodie",
        "Cropped Hoodie",
        "Heavyweight Boxy Hoodie",
        "Kids Zip Hoodie",
        "Sherpa-lined Hoodie",
        "Tie-dye Hoodie",
    ],
    "bags": [
        "Canvas Tote Bag",
        "Mini Crossbody Bag",
        "Laptop Backpack",
        "Drawstring Gym Bag",
        "Quilted Puffer Tote",
        "Waterproof Dry Bag",
        "Cosmetic Pouch",
        "Jute Shopping Bag",
    ],
    "phone-accessories": [
        "MagSafe Clear Case",
        "Silicone Phone Case",
        "Card Holder Wallet Case",
        "Glitter Phone Case",
        "Shockproof Bumper Case",
        "Phone Lanyard Strap",
        "Phone Ring Holder",
        "Tempered Glass Screen Protector",
    ],
    "home-kitchen": [
        "Bamboo Cutting Board",
        "Silicone Stretch Lids",
        "Glass Storage Jar",
        "Ceramic Coffee Mug",
        "Stainless Steel Straw Set",
        "Linen Table Runner",
        "Collapsible Colander",
        "Insulated Water Bottle",
    ],
    "jewelry": [
        "Stainless Huggie Earrings",
        "Freshwater Pearl Necklace",
        "Stackable Ring Set",
        "Charm Bracelet",
        "Initial Pendant Necklace",
        "Chunky Hoop Earrings",
        "Anklet Chain",
    ],
    "toys": [
        "Fidget Pop Bubble",
        "Wooden Stacking Rainbow",
        "Plush Axolotl",
        "Magnetic Tiles Set",
        "Slow-rise Squishy",
        "Kids Walkie Talkies",
        "Bubble Wand Set",
    ],
    "beauty-tools": [
        "Jade Face Roller",
        "Makeup Brush Set",
        "Heatless Hair Curler",
        "Silicone Face Scrubber",
        "Hair Claw Clips",
        "Eyelash Curler",
        "Gua Sha Stone",
    ],
    "pet-supplies": [
        "Reflective Dog Collar",
        "Cat Teaser Wand",
        "Silicone Lick Mat",
        "Pet Grooming Glove",
        "Collapsible Travel Bowl",
        "Dog Poop Bag Holder",
        "Cat Scratcher Pad",
    ],
    "stationery": [
        "A5 Dotted Notebook",
        "Gel Pen Set",
        "Washi Tape Set",
        "Sticky Notes Pack",
        "Canvas Pencil Case",
        "Pastel Highlighter Set",
        "Desk Organizer",
    ],
    "sports": [
        "Non-slip Yoga Mat",
        "Resistance Band Set",
        "Speed Jump Rope",
        "Grip Socks",
        "Sweatband Set",
        "Gym Shaker Bottle",
    ],
}

# Positions in the product list (0-based) that are drafts, or scheduled for later.
DRAFTS = {6, 29, 51, 73}
SCHEDULED = {15, 44, 66}
MADE_TO_ORDER = {3, 22, 38, 57, 70}
TIER_STEPS = [(1, 10, 50, 200), (1, 20, 100, 500), (1, 12, 48, 144), (1, 50, 200, 1000)]


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _ean13(number: int) -> str:
    """A valid EAN-13 in the 690 (China) prefix range."""
    body = f"690{number:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _abbreviation(value: str) -> str:
    """SKU part of an option value: "Black" -> "BLA", "iPhone 15 Pro" -> "I15P", "S/M" -> "SM"."""
    words = ["".join(ch for ch in word if ch.isalnum()).upper() for word in value.split()]
    words = [word for word in words if word]
    if len(words) == 1:
        return words[0] if any(ch.isdigit() for ch in words[0]) else words[0][:3]
    return "".join(word if any(ch.isdigit() for ch in word) else word[0] for word in words)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (AttributeError, OSError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def draw_product_picture(
    name: str, colour: tuple[int, int, int], rng, view: str, *, side: int
) -> bytes:
    """A square product shot: coloured blocks and shapes with the product's name."""
    background = tuple(min(255, c // 4 + 180) for c in colour)
    image = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(image)
    accent = tuple(rng.randint(40, 220) for _ in range(3))
    draw.rectangle([0, int(side * 0.72), side, side], fill=accent)
    margin = side // 16
    for _ in range(rng.randint(2, 4)):
        w, h = rng.randint(side // 6, side * 2 // 5), rng.randint(side // 6, side * 2 // 5)
        x, y = rng.randint(margin, side - margin - w), rng.randint(margin, side * 7 // 10 - h)
        shade = tuple(max(0, min(255, c + rng.randint(-40, 40))) for c in colour)
        shape = rng.choice(["ellipse", "rectangle", "triangle"])
        if shape == "ellipse":
            draw.ellipse([x, y, x + w, y + h], fill=shade, outline=(20, 20, 20), width=4)
        elif shape == "rectangle":
            draw.rounded_rectangle([x, y, x + w, y + h], radius=side // 32, fill=shade)
        else:
            draw.polygon([(x, y + h), (x + w // 2, y), (x + w, y + h)], fill=shade)
    text_colour = (255, 255, 255) if sum(accent) < 380 else (20, 20, 20)
    title = "\n".join(textwrap.wrap(name, width=22))
    draw.multiline_text((margin, int(side * 0.75)), title, font=_font(side // 16), fill=text_colour)
    draw.text(
        (side - margin, side - margin // 2),
        view,
        font=_font(side // 28),
        fill=text_colour,
        anchor="rb",
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Load the demo accounts, categories and products (idempotent, deterministic)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts-only",
            action="store_true",
            help="Only the staff and buyer accounts, addresses and shipping (no catalog).",
        )

    def handle(self, *args, **options):
        self.password_hash = None
        self.created = {
            "users": 0,
            "categories": 0,
            "products": 0,
            "variants": 0,
            "images": 0,
            "translations": 0,
        }
        with transaction.atomic():
            self.seed_staff()
            self.seed_buyers()
            self.seed_addresses()
            self.seed_shipping()
            if options["accounts_only"]:
                return
            categories = self.seed_categories()
        new_product_ids = self.seed_products(categories)
        if new_product_ids:
            product_refresh(product_ids=new_product_ids)
        self.created["translations"] = translations_seed_demo()
        self.seed_orders()
        self.seed_shipments()
        self.seed_exports()
        inquiries_seed_demo()
        showcase_seed_demo()
        # A year of sales from a few hundred more buyers, for the reports; then the rollups
        # the heavy reports read, so they show it before beat's first refresh.
        history = history_seed_demo()
        if history:
            rollups_refresh()
        if options["verbosity"] >= 1:
            made = ", ".join(f"{count} {name}" for name, count in self.created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data: created {made}."))
            if history:
                written = ", ".join(f"{count} {name}" for name, count in history.items())
                self.stdout.write(f"Sales history for the reports: {written}.")
            self.stdout.write(
                f"Log in as admin@demo.test, editor@demo.test, buyer1@demo.test ... "
                f"with the password {PASSWORD}."
            )

    # --- accounts -----------------------------------------------------------------------------

    def user(self, email, *, first_name, last_name, is_staff=False, is_superuser=False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                first_name=first_name,
                last_name=last_name,
                is_staff=is_staff,
                is_superuser=is_superuser,
            )
            # One slow hash for all the accounts: they share the demo password.
            if self.password_hash is None:
                self.password_hash = make_password(PASSWORD)
            user.password = self.password_hash
            user.save(update_fields=["password"])
            self.created["users"] += 1
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def seed_staff(self):
        groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLES)}
        for email, first_name, last_name, role in STAFF:
            user = self.user(
                email,
                first_name=first_name,
                last_name=last_name,
                is_staff=True,
                is_superuser=role is None,
            )
            if role is not None and not user.groups.filter(name=role).exists():
                user.groups.add(groups[role])
            if role == roles.SALES and not SalesProfile.objects.filter(user=user).exists():
                SalesProfile.objects.create(user=user, referral_code=first_name.lower())

    def seed_buyers(self):
        for buyer in BUYERS:
            user = self.user(
                buyer["email"], first_name=buyer["first_name"], last_name=buyer["last_name"]
            )
            if not Distributor.objects.filter(user=user).exists():
                Distributor.objects.create(
                    user=user,
                    company_name=buyer["company_name"],
                    contact_name=f"{buyer['first_name']} {buyer['last_name']}",
                    country=buyer["country"],
                    business_type=buyer["business_type"],
                    phone=buyer["phone"],
                    website=buyer["website"],
                    tax_number=buyer["tax_number"],
                    status=Distributor.Status.APPROVED,
                )
            distributor = Distributor.objects.get(user=user)
            owner = User.objects.get(email=buyer["owner"])
            if distributor.owner_id != owner.pk:
                owner_assign(
                    distributor,
                    source=OwnershipChange.Source.SIGNUP_CHOICE,
                    to_owner=owner,
                    reason="Demo data",
                )

    def seed_addresses(self):
        for email, addresses in ADDRESSES.items():
            member = User.objects.get(email=email)
            if member.addresses.exists():
                continue
            for fields in addresses:
                Address.objects.create(member=member, **fields)

    # --- orders -------------------------------------------------------------------------------

    def seed_orders(self):
        """A paid order for each demo buyer and one of buyer1's awaiting its bank transfer, so
        that each salesperson finds their customer's orders (and only those) in the admin,
        and a paid order can be disputed and handed to customer service. Placed through the
        real services; only for buyers who have no order yet."""
        finance = User.objects.get(email="finance@demo.test")
        products = [
            product
            for product in Product.objects.published()
            .filter(made_to_order=False)
            .prefetch_related("variants")
            .order_by("pk")[:12]
            if sum(v.stock >= 200 for v in product.variants.all() if v.is_active) >= 2
        ][:5]
        # (product, paid?, days since it was shipped or None): the shipped ones are on their
        # way, at different points of the offline carrier's week (seed_shipments).
        plans = {
            "buyer1@demo.test": [
                (products[0], True, None),
                (products[1], False, None),
                (products[3], True, 4),
            ],
            "buyer2@demo.test": [(products[2], True, None), (products[4], True, 2)],
        }
        self.to_ship = []
        for email, plan in plans.items():
            member = User.objects.get(email=email)
            if Order.objects.filter(member=member).exists():
                continue
            address = member.addresses.filter(is_end_customer=False).order_by("pk").first()
            for product, pay, shipped_days_ago in plan:
                variants = [v for v in product.variants.all() if v.is_active and v.stock >= 200]
                variants = variants[:2]
                # Enough for the MOQ and the minimum order amount, in whole packs.
                each = max(-(-product.moq // len(variants)), 60)
                step = max(product.order_increment, 1)
                each = -(-each // step) * step
                cart_add_lines(
                    member=member,
                    product_slug=product.slug,
                    quantities={variant.pk: each for variant in variants},
                )
                order = order_place(
                    member=member,
                    checkout_key=uuid.uuid5(uuid.NAMESPACE_URL, f"demo:{email}:{product.slug}"),
                    address_id=address.pk,
                    method_code="express",
                    payment_method="bank_transfer",
                )
                if pay:
                    bank_transfer_confirm(order_id=order.pk, by=finance, reference="DEMO-TT")
                if shipped_days_ago is not None:
                    self.to_ship.append((order, shipped_days_ago))

    def seed_shipments(self):
        """Ship the orders planned as shipped, a few days back, and ask the carrier once, so
        their timelines start filled in; the tracking sweep (three times a day, the demo's
        beat) moves them on through the offline carrier's week until they are delivered."""
        if not self.to_ship:
            return
        manager = User.objects.get(email="manager@demo.test")
        now = timezone.now()
        for order, days_ago in self.to_ship:
            shipment = shipment_add(
                order_id=order.pk,
                carrier="YunExpress",
                tracking_number=f"YT{order.number.lstrip('W').zfill(10)}CN",
                by=manager,
            )
            Shipment.objects.filter(pk=shipment.pk).update(
                shipped_at=now - timedelta(days=days_ago)
            )
        if provider_default().name == "offline":
            tracking_update(now=now, min_interval=timedelta(0))

    def seed_exports(self):
        """An hourly ERP export of paid orders' lines to var/exports/demo-erp/ (CSV), which the
        demo's beat runs: its first file lands within minutes of `make run`."""
        if ExportProfile.objects.exists():
            return
        columns = [
            ("order_number", "OrderNo"),
            ("placed_at", "OrderDate"),
            ("customer_company", "Customer"),
            ("customer_country", "Country"),
            ("salesperson_email", "SalesRep"),
            ("line_sku", "SKU"),
            ("line_product", "Description"),
            ("line_quantity", "Qty"),
            ("line_unit_price", "UnitPrice"),
            ("line_total", "LineTotal"),
            ("currency", "Currency"),
            ("payment_status", "Payment"),
        ]
        ExportProfile.objects.create(
            name="ERP: paid order lines (demo)",
            states=[OrderState.PAID, OrderState.PROCESSING, OrderState.SHIPPED],
            incremental=True,
            fields=[{"source": source, "column": column} for source, column in columns],
            format=ExportProfile.Format.CSV,
            folder="demo-erp",
            schedule=ExportProfile.Schedule.HOURLY,
        )

    # --- shipping -----------------------------------------------------------------------------

    def seed_shipping(self):
        if ShippingZone.objects.exists():
            return
        from django_countries import countries

        methods = {
            code: ShippingMethod.objects.get_or_create(
                code=code, defaults={"name": name, "position": position}
            )[0]
            for code, name, position in SHIPPING_METHODS
        }
        listed = {code for _name, codes in SHIPPING_ZONES if codes for code in codes}
        for position, (name, codes) in enumerate(SHIPPING_ZONES):
            if codes is None:
                codes = [code for code, _name in countries if code not in listed]
            zone = ShippingZone.objects.create(name=name, countries=codes, position=position)
            for code, terms in SHIPPING_RATES[name].items():
                first_g, first, step_g, step, free, min_days, max_days = terms
                ShippingRate.objects.create(
                    zone=zone,
                    method=methods[code],
                    first_weight_grams=first_g,
                    first_price=Decimal(first),
                    additional_weight_grams=step_g,
                    additional_price=Decimal(step),
                    free_above=Decimal(free) if free else None,
                    min_days=min_days,
                    max_days=max_days,
                )

    # --- catalog ------------------------------------------------------------------------------

    def seed_categories(self) -> dict[str, Category]:
        existing = {c.slug: c for c in Category.objects.filter(slug__in=[c[0] for c in CATEGORIES])}
        for position, (slug, name, parent_slug, description) in enumerate(CATEGORIES):
            if slug in existing:
                continue
            existing[slug] = Category.objects.create(
                slug=slug,
                name=name,
                parent=existing[parent_slug] if parent_slug else None,
                description=description,
                position=position,
            )
            self.created["categories"] += 1
        return existing

    def seed_products(self, categories: dict[str, Category]) -> list[int]:
        plan = [
            (category_slug, name) for category_slug, names in PRODUCTS.items() for name in names
        ]
        existing = set(
            Product.objects.filter(slug__in=[slugify(name) for _, name in plan]).values_list(
                "slug", flat=True
            )
        )
        now = timezone.now()
        created = []
        for index, (category_slug, name) in enumerate(plan):
            if slugify(name) in existing:
                continue
            # Each product in its own transaction: an interrupted run resumes where it stopped.
            with transaction.atomic():
                product = self.seed_product(
                    index=index, category=categories[category_slug], name=name, now=now
                )
            created.append(product.pk)
        return created

    def seed_product(self, *, index: int, category: Category, name: str, now) -> Product:
        rng = random.Random(f"{SEED}:{slugify(name)}")  # noqa: S311 - demo data, not secrets
        line = LINES[category.slug]
        made_to_order = index in MADE_TO_ORDER
        increment = rng.choice([1, 1, 1, 2, 5, 6, 10])
        if index in DRAFTS:
            status, published_at = Product.Status.DRAFT, None
        elif index in SCHEDULED:
            status = Product.Status.PUBLISHED
            published_at = now + timedelta(days=rng.randint(2, 10), hours=rng.randint(0, 23))
        else:
            status = Product.Status.PUBLISHED
            published_at = now - timedelta(minutes=rng.randint(30, 42 * 24 * 60))
        product = Product.objects.create(
            name=name,
            slug=slugify(name),
            category=category,
            description=self.description(name, category, line, rng),
            status=status,
            published_at=published_at,
            option1_name=line.option1,
            option2_name=line.option2,
            moq=increment * rng.choice([1, 2, 5, 10]),
            order_increment=increment,
            made_to_order=made_to_order,
            lead_time_days=rng.choice([7, 10, 15, 21, 30]) if made_to_order else None,
            units_sold=(
                min(5000, int(rng.paretovariate(1.3) * 30))
                if published_at is not None and published_at < now
                else 0
            ),
        )
        self.created["products"] += 1

        base = rng.uniform(*line.price)
        steps = rng.choice(TIER_STEPS)[: rng.randint(2, 4)]
        price = base
        for min_quantity in steps:
            PriceTier.objects.create(
                product=product, min_quantity=min_quantity, unit_price=_money(price)
            )
            price *= 1 - rng.uniform(0.05, 0.14)

        colours = self.seed_variants(product, index=index, line=line, base=base, rng=rng)

        for view_index in range(rng.randint(1, 3)):
            colour = colours[view_index % len(colours)]
            view = ["front", "detail", "pack"][view_index]
            content = draw_product_picture(name, colour, rng, view, side=IMAGE_SIDE)
            upload = SimpleUploadedFile(f"{product.slug}-{view}.jpg", content, "image/jpeg")
            product_image_add(
                product=product, upload=upload, alt_text=f"{name}, {view}", position=view_index
            )
            self.created["images"] += 1
        return product

    def seed_variants(self, product, *, index, line, base, rng) -> list[tuple[int, int, int]]:
        count = rng.randint(2, 8)
        values1 = rng.sample(line.values1, min(len(line.values1), count))
        if line.values2:
            # A run of sizes (or models) for each colour, whole colours first.
            sizes = line.values2[rng.randint(0, max(0, len(line.values2) - 2)) :]
            combos = [(v1, v2) for v1 in values1 for v2 in sizes][:count]
        else:
            combos = [(v1, "") for v1 in values1]
        skus = set()
        swatches = []
        for position, (value1, value2) in enumerate(combos):
            sku = f"{line.code}{index + 1:03d}-{_abbreviation(value1)}"
            if value2:
                sku += f"-{_abbreviation(value2)}"
            if sku in skus:
                sku += f"-{position + 1}"
            skus.add(sku)
            roll = rng.random()
            if product.made_to_order or roll < 0.12:
                stock = 0
            elif roll < 0.27:
                stock = rng.randint(1, 19)
            else:
                stock = rng.randint(20, 900)
            own_price = None
            if value2 in ("XL", "XXL", "L/XL") and rng.random() < 0.6:
                own_price = _money(base * (1.08 if value2 != "XXL" else 1.15))
            elif rng.random() < 0.06:
                own_price = _money(base * rng.uniform(1.03, 1.2))
            Variant.objects.create(
                product=product,
                sku=sku,
                barcode=_ean13((index + 1) * 100 + position),
                option1=value1,
                option2=value2,
                weight_grams=rng.randint(*line.weight),
                stock=stock,
                price=own_price,
                position=position,
            )
            self.created["variants"] += 1
            swatch = COLOURS.get(value1) or FINISHES.get(value1) or (120, 120, 120)
            if swatch not in swatches:
                swatches.append(swatch)
        return swatches

    def description(self, name, category, line, rng) -> str:
        options = line.option1.lower() + (f" and {line.option2.lower()}" if line.option2 else "")
        opening = rng.choice(
            [
                f"Our {name.lower()} is a steady seller in {category.name.lower()}.",
                f"A best-value {name.lower()} for shops and online sellers.",
                f"The {name.lower()} our buyers reorder every month.",
            ]
        )
        return (
            f"{opening} Mix {options} freely: quantity prices count every variant together. "
            "Ships in retail-ready polybags with a barcode label; product photos and a "
            "listing kit are free to download."
        )

"""Seed the bench database: 30 categories, 20,000 published products, 60,000 variants.

Usage: ``.venv/bin/python bench/seed.py [--reseed]`` (``bench/run.py`` calls it for you).

The database (``wholesale_bench`` unless ``BENCH_DATABASE_URL`` says otherwise) is created and
migrated if missing, and reused when it already holds the expected rows; ``--reseed`` drops and
rebuilds it. Names and descriptions are made of real product words, so a search for "mug" or
"canvas backpack" finds some hundreds of products, as in a real wholesale catalog. The data are
deterministic (a fixed random seed), so two runs measure the same catalog.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import config

PRODUCTS = 20_000
VARIANTS_PER_PRODUCT = 3
TIERS = ((1, Decimal("1.00")), (10, Decimal("0.90")), (50, Decimal("0.80")))
BATCH = 2_000
SEED = 20_240_601

# Top-level category -> subcategory -> (product nouns, materials).
CATALOG: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "Apparel": {
        "T-shirts": (
            ["t-shirt", "polo shirt", "tank top"],
            ["cotton", "organic cotton", "linen", "bamboo"],
        ),
        "Hoodies": (["hoodie", "sweatshirt", "zip jacket"], ["fleece", "cotton", "wool"]),
        "Socks": (["crew sock", "ankle sock", "compression sock"], ["cotton", "bamboo", "wool"]),
        "Caps": (["baseball cap", "beanie", "bucket hat"], ["cotton", "wool", "canvas"]),
    },
    "Kitchen": {
        "Mugs": (["mug", "travel mug", "espresso cup"], ["ceramic", "enamel", "stainless steel"]),
        "Bottles": (
            ["water bottle", "flask", "tumbler"],
            ["stainless steel", "glass", "aluminium"],
        ),
        "Cutlery": (
            ["spoon set", "fork set", "chopsticks"],
            ["stainless steel", "bamboo", "wooden"],
        ),
        "Storage": (["lunch box", "food container", "jar"], ["glass", "bamboo", "silicone"]),
    },
    "Office": {
        "Notebooks": (
            ["notebook", "journal", "sketchbook"],
            ["recycled paper", "leather", "kraft"],
        ),
        "Pens": (["ballpoint pen", "pencil", "highlighter"], ["bamboo", "aluminium", "recycled"]),
        "Desk": (["desk organiser", "mouse pad", "monitor stand"], ["bamboo", "felt", "leather"]),
        "Bags": (["backpack", "laptop sleeve", "messenger bag"], ["canvas", "leather", "nylon"]),
    },
    "Home": {
        "Towels": (["bath towel", "hand towel", "beach towel"], ["cotton", "organic cotton"]),
        "Candles": (["scented candle", "tealight", "candle holder"], ["soy wax", "beeswax"]),
        "Cushions": (["cushion", "cushion cover", "throw blanket"], ["linen", "velvet", "wool"]),
        "Decor": (["vase", "photo frame", "wall clock"], ["ceramic", "glass", "brass"]),
    },
    "Outdoor": {
        "Camping": (["tent", "sleeping bag", "camping lantern"], ["nylon", "polyester"]),
        "Cycling": (["bike light", "cycling glove", "saddle bag"], ["nylon", "leather"]),
        "Garden": (["planter", "watering can", "garden glove"], ["terracotta", "galvanised"]),
        "Umbrellas": (["umbrella", "golf umbrella", "rain poncho"], ["polyester", "fibreglass"]),
    },
    "Electronics": {
        "Cables": (["usb-c cable", "lightning cable", "hdmi cable"], ["braided nylon", "pvc"]),
        "Chargers": (["wall charger", "power bank", "wireless charger"], ["aluminium", "bamboo"]),
        "Speakers": (["bluetooth speaker", "earbuds", "headphones"], ["aluminium", "fabric"]),
        "Lights": (["desk lamp", "led strip", "night light"], ["aluminium", "wooden", "ceramic"]),
    },
}
COLLECTIONS = [
    "Alpine",
    "Arctic",
    "Atlas",
    "Aurora",
    "Baltic",
    "Boreal",
    "Cascade",
    "Coastal",
    "Delta",
    "Dune",
    "Ember",
    "Fjord",
    "Glacier",
    "Harbor",
    "Highland",
    "Horizon",
    "Island",
    "Juniper",
    "Lagoon",
    "Meadow",
    "Mesa",
    "Monsoon",
    "Nordic",
    "Oasis",
    "Orchard",
    "Pacific",
    "Prairie",
    "Quarry",
    "Redwood",
    "Riviera",
    "Sahara",
    "Sierra",
    "Summit",
    "Tundra",
    "Valley",
    "Willow",
    "Zephyr",
]
ADJECTIVES = [
    "classic",
    "premium",
    "eco",
    "heavy-duty",
    "lightweight",
    "compact",
    "vintage",
    "modern",
    "foldable",
    "waterproof",
    "insulated",
    "soft-touch",
    "rustic",
    "minimalist",
    "deluxe",
    "everyday",
    "slim",
    "oversized",
    "reusable",
    "handmade",
]
USES = (
    "promotional events",
    "corporate gifts",
    "retail shelves",
    "hotels and hospitality",
    "schools and universities",
    "trade shows",
    "online stores",
    "cafés and restaurants",
    "sports clubs",
    "tourist shops",
)
FEATURES = (
    "ships within seven days of payment",
    "OEKO-TEX certified materials",
    "BPA free and food safe",
    "dishwasher safe",
    "machine washable at forty degrees",
    "FSC certified packaging",
    "RoHS and CE compliant",
    "fully recyclable packaging",
    "private label ready",
    "custom colours on request",
    "sample available before bulk order",
    "tested for durability by an independent lab",
)
COLOURS = ["black", "white", "navy", "grey", "red", "green", "sand", "olive", "charcoal", "natural"]
SIZES = ("S", "M", "L", "XL")


def _admin_and_name(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def _counts(url: str) -> dict[str, int] | None:
    """Row counts of a seeded bench database, or None if it is missing or not migrated."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT"
                " (SELECT count(*) FROM catalog_category),"
                " (SELECT count(*) FROM catalog_product WHERE status = 'published'"
                "   AND price_from IS NOT NULL AND search_document IS NOT NULL),"
                " (SELECT count(*) FROM catalog_variant),"
                " (SELECT count(*) FROM catalog_pricetier)"
            ).fetchone()
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return None
    return dict(zip(("categories", "products", "variants", "tiers"), row, strict=True))


def _is_seeded(counts: dict[str, int] | None) -> bool:
    return counts is not None and counts == {
        "categories": sum(1 + len(subs) for subs in CATALOG.values()),
        "products": PRODUCTS,
        "variants": PRODUCTS * VARIANTS_PER_PRODUCT,
        "tiers": PRODUCTS * len(TIERS),
    }


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    admin_url, name = _admin_and_name(url)
    if not name.endswith("_bench"):
        raise SystemExit(f"Refusing to drop {name!r}: the bench database's name ends in _bench.")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _log(message: str, started: float) -> None:
    print(f"  [{time.monotonic() - started:6.1f} s] {message}", flush=True)


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def _populate(started: float) -> None:
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import slugify

    from catalog import services
    from catalog.models import Category, PriceTier, Product, Variant

    rng = random.Random(SEED)
    now = timezone.now()

    leaves: list[tuple[Category, list[str], list[str], bool]] = []
    with transaction.atomic():
        for position, (top_name, subs) in enumerate(CATALOG.items()):
            top = Category.objects.create(
                name=top_name, slug=slugify(top_name), position=position, description=top_name
            )
            for sub_position, (sub_name, (nouns, materials)) in enumerate(subs.items()):
                sub = Category.objects.create(
                    name=sub_name,
                    slug=f"{slugify(top_name)}-{slugify(sub_name)}",
                    parent=top,
                    position=sub_position,
                )
                leaves.append((sub, nouns, materials, top_name == "Apparel"))
    _log(f"{Category.objects.count()} categories", started)

    for start in range(0, PRODUCTS, BATCH):
        products, specs = [], []
        for index in range(start, min(start + BATCH, PRODUCTS)):
            category, nouns, materials, sized = leaves[index % len(leaves)]
            noun, material = rng.choice(nouns), rng.choice(materials)
            adjective, collection = rng.choice(ADJECTIVES), rng.choice(COLLECTIONS)
            name = f"{collection} {adjective} {material} {noun}".title()
            moq = rng.choice((1, 10, 12, 24, 50, 100))
            made_to_order = rng.random() < 0.1
            features = rng.sample(FEATURES, 3)
            description = (
                f"{adjective.capitalize()} {noun} in {material}, made for "
                f"{rng.choice(USES)} and {rng.choice(USES)}. Our {collection} line is "
                f"produced in our own factory: {features[0]}, {features[1]}. "
                f"Custom logo printing from {moq} units; {features[2]}. "
                f"Packed {rng.choice((10, 20, 24, 50, 100))} per carton."
            )
            products.append(
                Product(
                    name=name,
                    slug=f"{slugify(name)}-{index + 1}",
                    category=category,
                    description=description,
                    status=Product.Status.PUBLISHED,
                    published_at=now - timedelta(minutes=rng.randrange(10, 2 * 365 * 24 * 60)),
                    option1_name="Colour",
                    option2_name="Size" if sized else "",
                    moq=moq,
                    order_increment=rng.choice((1, 1, 1, 6, 10)),
                    made_to_order=made_to_order,
                    lead_time_days=rng.choice((14, 21, 30, 45)) if made_to_order else None,
                    units_sold=int(rng.paretovariate(1.2) * 40) - 40,
                )
            )
            specs.append((index, sized, _money(rng.uniform(0.8, 60.0))))
        with transaction.atomic():
            Product.objects.bulk_create(products, batch_size=BATCH)
            variants, tiers = [], []
            for product, (index, sized, base) in zip(products, specs, strict=True):
                colours = rng.sample(COLOURS, VARIANTS_PER_PRODUCT)
                for position, colour in enumerate(colours):
                    variants.append(
                        Variant(
                            product=product,
                            sku=f"WS{index + 1:05d}-{position + 1}",
                            barcode=str(rng.randrange(10**12, 10**13)),
                            option1=colour,
                            option2=rng.choice(SIZES) if sized else "",
                            weight_grams=rng.randrange(20, 3000),
                            stock=0 if rng.random() < 0.05 else rng.randrange(1, 2000),
                            price=base + Decimal("0.50") if rng.random() < 0.1 else None,
                            position=position,
                        )
                    )
                for min_quantity, factor in TIERS:
                    tiers.append(
                        PriceTier(
                            product=product,
                            min_quantity=min_quantity,
                            unit_price=(base * factor).quantize(Decimal("0.01")),
                        )
                    )
            Variant.objects.bulk_create(variants, batch_size=BATCH)
            PriceTier.objects.bulk_create(tiers, batch_size=BATCH)
    _log(f"{PRODUCTS} products, their variants and tiers", started)

    # bulk_create skips the post_save that opens each variant's stock ledger; open it in one
    # statement so `manage.py stock_reconcile` holds on the bench database too.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_stockmovement "
            "(variant_id, delta, balance_after, reason, reference, note, created_at) "
            "SELECT id, stock, stock, 'initial', 'bench seed', '', now() "
            "FROM catalog_variant WHERE stock > 0"
        )
    _log("opening stock movements", started)

    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        services.product_refresh(product_ids=ids[start : start + BATCH])
    _log("price_from and search_document (catalog.services.product_refresh)", started)

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE catalog_category, catalog_product, catalog_variant, "
            "catalog_pricetier, catalog_productimage"
        )
    _log("VACUUM ANALYZE", started)


def ensure_images(*, with_images: bool) -> int:
    """One image (with its three renditions) per product, or none; return how many there are.

    Only the rows: the bench measures HTML, so the files themselves are never requested.
    """
    from django.db import connection, transaction

    from catalog.models import Product, ProductImage

    have = ProductImage.objects.count()
    if not with_images:
        if have:
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE catalog_productimage")
        return 0
    if have == PRODUCTS:
        return have
    started = time.monotonic()
    rows = list(Product.objects.order_by("pk").values_list("pk", "slug", "name"))
    with transaction.atomic():
        ProductImage.objects.all().delete()
        for start in range(0, len(rows), BATCH):
            images = []
            for pk, slug, name in rows[start : start + BATCH]:
                stem = hashlib.sha1(slug.encode(), usedforsecurity=False).hexdigest()[:12]
                renditions = {
                    size: {
                        "width": side,
                        "height": side,
                        "webp": f"products/{pk}/{size}/{stem}.webp",
                        "jpeg": f"products/{pk}/{size}/{stem}.jpg",
                    }
                    for size, side in (("thumb", 240), ("medium", 640), ("large", 1280))
                }
                images.append(
                    ProductImage(
                        product_id=pk,
                        original=f"products/{pk}/original/{stem}.jpg",
                        width=1600,
                        height=1600,
                        alt_text=name,
                        renditions=renditions,
                    )
                )
            ProductImage.objects.bulk_create(images, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_productimage")
    _log(f"{len(rows)} product images", started)
    return len(rows)


def ensure_seeded(*, reseed: bool = False, with_images: bool = True) -> dict[str, int]:
    """Make the bench database hold the bench catalog; return its row counts.

    Needs Django set up with ``config.setup_django()`` (it migrates and uses the models).
    """
    from django.core.management import call_command
    from django.db import connections

    started = time.monotonic()
    name = _admin_and_name(config.DATABASE_URL)[1]
    counts = _counts(config.DATABASE_URL)
    if _is_seeded(counts) and not reseed:
        call_command("migrate", interactive=False, verbosity=0)
        print(f"Reusing the seeded database {name} {counts}")
    else:
        print(f"Seeding {name} (about a minute) ...", flush=True)
        connections.close_all()
        recreate_database(config.DATABASE_URL)
        call_command("migrate", interactive=False, verbosity=0)
        _log("migrated", started)
        _populate(started)
        connections.close_all()
        counts = _counts(config.DATABASE_URL)
        if not _is_seeded(counts):
            raise SystemExit(f"Seeding went wrong: {counts}")
        _log(f"seeded {counts}", started)
    return {**counts, "images": ensure_images(with_images=with_images)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the database")
    parser.add_argument(
        "--no-images", action="store_true", help="products without images (cards show none)"
    )
    args = parser.parse_args(argv)
    config.setup_django()
    ensure_seeded(reseed=args.reseed, with_images=not args.no_images)


if __name__ == "__main__":
    main()

"""Product kits: a zip a distributor downloads to list our products in their own shop.

The zip holds the products' large images and the product data three ways: Shopify's product
import CSV, WooCommerce's product CSV and an Excel sheet. Prices are the buyer's: their
first-tier wholesale price less their level discount, and, when they set a suggested retail
markup (members.Distributor.retail_markup_percent), that price marked up.

A kit of up to SYNC_LIMIT products is built in the request; bigger ones (a selection of more
than SYNC_LIMIT products, a category, this week's new arrivals) by a Celery task that reports its
progress on the kit row. The zip is written to a temporary file and stored only when complete,
so a failed build leaves no half file. Kits live KIT_DAYS days; a daily job deletes the files
of expired ones.

Every text cell goes through wholesale.csv_export.csv_cell (B7: a product named "=HYPERLINK(…)"
must not become a formula in the buyer's spreadsheet).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog.models import Category, Product, ProductImage, ProductKit, Variant
from members.selectors import distributor_for
from wholesale.csv_export import csv_cell
from wholesale.money import quantize

from .membership import level_discount_for

logger = logging.getLogger(__name__)

KIT_DAYS = 7
SYNC_LIMIT = 5
# The most products one selection may hold (more is what category kits are for).
SELECTION_LIMIT = 200
NEW_ARRIVAL_DAYS = 7
IMAGE_RENDITION = "large"
PROGRESS_STEP = 5  # write progress to the row at most every 5 percent

SHOPIFY_FILE = "shopify_products.csv"
WOOCOMMERCE_FILE = "woocommerce_products.csv"
XLSX_FILE = "products.xlsx"
IMAGE_DIR = "images"

# Shopify's CURRENT product CSV template, deliberately: the columns as documented at
# https://help.shopify.com/en/manual/products/import-export/using-csv ("Product CSV file
# description") and in its sample file product_template.csv, where the older names were
# renamed ("Handle" → "URL handle", "Body (HTML)" → "Description", "Variant SKU" → "SKU",
# "Variant Price" → "Price", "Variant Grams" → "Weight value (grams)", "Image Src" → "Product
# image URL", "Published" → "Published on online store"). Checked against the help page's
# current text (its localized versions name "URL handle", "Title", "SKU", "Option1 name",
# "Option1 value", "Weight value (grams)", "Inventory quantity", "Compare-at price"); the
# rest follow the sample file. Columns the template leaves
# optional that we have no data for (unit price measures, tax code, metafields, markets)
# are left out, which the import accepts.
SHOPIFY_COLUMNS = (
    "Title",
    "URL handle",
    "Description",
    "Vendor",
    "Product category",
    "Type",
    "Tags",
    "Published on online store",
    "Status",
    "SKU",
    "Barcode",
    "Option1 name",
    "Option1 value",
    "Option2 name",
    "Option2 value",
    "Option3 name",
    "Option3 value",
    "Price",
    "Compare-at price",
    "Cost per item",
    "Charge tax",
    "Inventory tracker",
    "Inventory quantity",
    "Continue selling when out of stock",
    "Weight value (grams)",
    "Weight unit for display",
    "Requires shipping",
    "Fulfillment service",
    "Product image URL",
    "Image position",
    "Image alt text",
    "Variant image URL",
    "Gift card",
    "SEO title",
    "SEO description",
)

# WooCommerce's built-in product CSV importer (Products → Import), its default column names.
WOOCOMMERCE_COLUMNS = (
    "Type",
    "SKU",
    "Parent",
    "Name",
    "Published",
    "Short description",
    "Description",
    "Tax status",
    "In stock?",
    "Stock",
    "Weight (kg)",
    "Regular price",
    "Categories",
    "Images",
    "Position",
    "Attribute 1 name",
    "Attribute 1 value(s)",
    "Attribute 1 visible",
    "Attribute 1 global",
    "Attribute 2 name",
    "Attribute 2 value(s)",
    "Attribute 2 visible",
    "Attribute 2 global",
    "Attribute 3 name",
    "Attribute 3 value(s)",
    "Attribute 3 visible",
    "Attribute 3 global",
)

XLSX_COLUMNS = (
    "Product",
    "Handle",
    "SKU",
    "Barcode",
    "Option 1",
    "Option 2",
    "Option 3",
    "Category",
    "Wholesale price",
    "Retail price",
    "Currency",
    "Stock",
    "Weight (g)",
    "Image URL",
)


class KitRefused(Exception):
    """A kit the member may not have, or one that selects nothing; the message is for them."""


# --- Prices -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KitPricing:
    currency: str
    discount_percent: Decimal = Decimal(0)
    markup_percent: Decimal | None = None

    def wholesale(self, list_price: Decimal) -> Decimal:
        return quantize(list_price * (100 - self.discount_percent) / 100, self.currency)

    def retail(self, list_price: Decimal) -> Decimal:
        wholesale = self.wholesale(list_price)
        if not self.markup_percent:
            return wholesale
        return quantize(wholesale * (100 + self.markup_percent) / 100, self.currency)


def pricing_for(member) -> KitPricing:
    """The member's kit prices: their level discount and their suggested retail markup."""
    level = level_discount_for(member)
    distributor = distributor_for(member)
    return KitPricing(
        currency=settings.WHOLESALE_BASE_CURRENCY,
        discount_percent=level.percent if level else Decimal(0),
        markup_percent=distributor.retail_markup_percent if distributor else None,
    )


def list_price(product: Product, variant: Variant) -> Decimal:
    """The variant's first-tier price (its own price, else the product's first tier)."""
    if variant.price is not None:
        return variant.price
    tiers = sorted(product.tiers.all(), key=lambda t: t.min_quantity)
    if not tiers:
        raise ValueError(f"Product {product.pk} has no price tiers.")
    return tiers[0].unit_price


# --- What a kit holds ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KitImage:
    path: str  # in storage
    name: str  # inside the zip
    url: str  # what the CSVs refer to
    alt: str
    position: int


@dataclass(frozen=True, slots=True)
class KitProduct:
    product: Product
    handle: str
    variants: list[Variant]
    images: list[KitImage]


def handle_for(product: Product) -> str:
    """Shopify's URL handle: lowercase letters, digits and single hyphens."""
    handle = "-".join(part for part in slugify(product.slug).replace("_", "-").split("-") if part)
    return handle or f"product-{product.pk}"


def _image_url(zip_name: str, storage_path: str) -> str:
    site = (settings.WHOLESALE_SITE_URL or "").rstrip("/")
    if not site:
        return zip_name  # relative, inside the zip
    url = default_storage.url(storage_path)
    return url if url.startswith(("http://", "https://")) else site + url


def _kit_images(product: Product, handle: str) -> list[KitImage]:
    images = []
    for index, image in enumerate(product.images.all(), start=1):
        files = (image.renditions or {}).get(IMAGE_RENDITION) or {}
        path = files.get("jpeg") or image.original.name
        if not path:
            continue
        extension = os.path.splitext(path)[1].lower() or ".jpg"
        name = f"{IMAGE_DIR}/{handle}-{index}{extension}"
        images.append(
            KitImage(path, name, _image_url(name, path), image.alt_text or product.name, index)
        )
    return images


def kit_products(kit: ProductKit) -> list[Product]:
    """The published products a kit covers, with what the formats read, in one query each."""
    products = Product.objects.published().select_related("category")
    if kit.kind == ProductKit.Kind.CATEGORY:
        if kit.category_id is None:
            return []
        products = products.filter(
            Q(category_id=kit.category_id) | Q(category__parent_id=kit.category_id)
        )
    elif kit.kind == ProductKit.Kind.NEW_ARRIVALS:
        products = products.filter(
            published_at__gte=kit.created_at - timedelta(days=NEW_ARRIVAL_DAYS)
        )
    else:
        products = products.filter(pk__in=kit.product_ids or [])
    return list(
        products.order_by("name", "pk").prefetch_related(
            Prefetch("variants", queryset=Variant.objects.filter(is_active=True)),
            "tiers",
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")),
        )
    )


def kit_items(products: Iterable[Product]) -> list[KitProduct]:
    items = []
    for product in products:
        variants = list(product.variants.all())
        if not variants:
            continue
        handle = handle_for(product)
        items.append(KitProduct(product, handle, variants, _kit_images(product, handle)))
    return items


# --- The three formats --------------------------------------------------------------------------


def _money(amount: Decimal) -> str:
    return f"{amount}"


def _option_names(product: Product) -> list[str]:
    return [product.option1_name, product.option2_name, product.option3_name]


def shopify_rows(items: Iterable[KitProduct], pricing: KitPricing) -> Iterable[list]:
    """Rows under SHOPIFY_COLUMNS: one per variant (the first carrying the product's fields
    and first image), then one per further image with only the handle and image columns.
    A product without options gets Shopify's "Title" / "Default Title" option."""
    width = len(SHOPIFY_COLUMNS)
    at = {name: index for index, name in enumerate(SHOPIFY_COLUMNS)}
    for item in items:
        product = item.product
        names = _option_names(product)
        has_options = any(v.options for v in item.variants)
        for number, variant in enumerate(item.variants):
            row = [""] * width
            row[at["URL handle"]] = item.handle
            if number == 0:
                row[at["Title"]] = product.name
                row[at["Description"]] = product.description
                row[at["Type"]] = product.category.name if product.category_id else ""
                row[at["Published on online store"]] = "TRUE"
                row[at["Status"]] = "Active"
                row[at["Gift card"]] = "FALSE"
                row[at["SEO title"]] = product.name
                if item.images:
                    first = item.images[0]
                    row[at["Product image URL"]] = first.url
                    row[at["Image position"]] = first.position
                    row[at["Image alt text"]] = first.alt
            values = [variant.option1, variant.option2, variant.option3]
            if has_options:
                for slot in range(3):
                    if values[slot]:
                        row[at[f"Option{slot + 1} name"]] = names[slot] or _("Option %(n)s") % {
                            "n": slot + 1
                        }
                        row[at[f"Option{slot + 1} value"]] = values[slot]
            else:
                row[at["Option1 name"]] = "Title"
                row[at["Option1 value"]] = "Default Title"
            price = list_price(product, variant)
            row[at["SKU"]] = variant.sku
            row[at["Barcode"]] = variant.barcode
            row[at["Price"]] = _money(pricing.retail(price))
            row[at["Cost per item"]] = _money(pricing.wholesale(price))
            row[at["Charge tax"]] = "TRUE"
            row[at["Inventory tracker"]] = "shopify"
            row[at["Inventory quantity"]] = variant.stock
            row[at["Continue selling when out of stock"]] = (
                "CONTINUE" if product.made_to_order else "DENY"
            )
            row[at["Weight value (grams)"]] = variant.weight_grams
            row[at["Weight unit for display"]] = "g"
            row[at["Requires shipping"]] = "TRUE"
            row[at["Fulfillment service"]] = "manual"
            yield row
        for image in item.images[1:]:
            row = [""] * width
            row[at["URL handle"]] = item.handle
            row[at["Product image URL"]] = image.url
            row[at["Image position"]] = image.position
            row[at["Image alt text"]] = image.alt
            yield row


def _parent_sku(item: KitProduct) -> str:
    return item.handle.upper()


def woocommerce_rows(items: Iterable[KitProduct], pricing: KitPricing) -> Iterable[list]:
    """Rows under WOOCOMMERCE_COLUMNS: a product with options is a "variable" parent row (its
    attributes with all their values, its images) and one "variation" row per variant whose
    Parent is the parent's SKU; a product without options is one "simple" row."""
    at = {name: index for index, name in enumerate(WOOCOMMERCE_COLUMNS)}
    width = len(WOOCOMMERCE_COLUMNS)
    for item in items:
        product = item.product
        names = _option_names(product)
        images = ", ".join(image.url for image in item.images)
        category = product.category.name if product.category_id else ""
        variable = any(v.options for v in item.variants)
        if not variable:
            variant = item.variants[0]
            row = [""] * width
            row[at["Type"]] = "simple"
            row[at["SKU"]] = variant.sku
            row[at["Name"]] = product.name
            row[at["Published"]] = 1
            row[at["Description"]] = product.description
            row[at["Tax status"]] = "taxable"
            row[at["In stock?"]] = 1 if variant.stock > 0 or product.made_to_order else 0
            row[at["Stock"]] = variant.stock
            row[at["Weight (kg)"]] = Decimal(variant.weight_grams) / 1000
            row[at["Regular price"]] = _money(pricing.retail(list_price(product, variant)))
            row[at["Categories"]] = category
            row[at["Images"]] = images
            yield row
            continue
        parent = [""] * width
        parent[at["Type"]] = "variable"
        parent[at["SKU"]] = _parent_sku(item)
        parent[at["Name"]] = product.name
        parent[at["Published"]] = 1
        parent[at["Description"]] = product.description
        parent[at["Tax status"]] = "taxable"
        parent[at["Categories"]] = category
        parent[at["Images"]] = images
        for slot in range(3):
            values = []
            for variant in item.variants:
                value = (variant.option1, variant.option2, variant.option3)[slot]
                if value and value not in values:
                    values.append(value)
            if values:
                n = slot + 1
                parent[at[f"Attribute {n} name"]] = names[slot] or _("Option %(n)s") % {"n": n}
                parent[at[f"Attribute {n} value(s)"]] = ", ".join(values)
                parent[at[f"Attribute {n} visible"]] = 1
                parent[at[f"Attribute {n} global"]] = 0
        yield parent
        for position, variant in enumerate(item.variants, start=1):
            row = [""] * width
            row[at["Type"]] = "variation"
            row[at["SKU"]] = variant.sku
            row[at["Parent"]] = _parent_sku(item)
            row[at["Name"]] = f"{product.name} - {variant.label}"
            row[at["Published"]] = 1
            row[at["Tax status"]] = "taxable"
            row[at["In stock?"]] = 1 if variant.stock > 0 or product.made_to_order else 0
            row[at["Stock"]] = variant.stock
            row[at["Weight (kg)"]] = Decimal(variant.weight_grams) / 1000
            row[at["Regular price"]] = _money(pricing.retail(list_price(product, variant)))
            row[at["Position"]] = position
            for slot in range(3):
                value = (variant.option1, variant.option2, variant.option3)[slot]
                if value:
                    n = slot + 1
                    row[at[f"Attribute {n} name"]] = names[slot] or _("Option %(n)s") % {"n": n}
                    row[at[f"Attribute {n} value(s)"]] = value
                    row[at[f"Attribute {n} global"]] = 0
            yield row


def xlsx_rows(items: Iterable[KitProduct], pricing: KitPricing) -> Iterable[list]:
    for item in items:
        product = item.product
        image = item.images[0].url if item.images else ""
        for variant in item.variants:
            price = list_price(product, variant)
            yield [
                product.name,
                item.handle,
                variant.sku,
                variant.barcode,
                variant.option1,
                variant.option2,
                variant.option3,
                product.category.name if product.category_id else "",
                pricing.wholesale(price),
                pricing.retail(price),
                pricing.currency,
                variant.stock,
                variant.weight_grams,
                image,
            ]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """A CSV file, UTF-8 with a byte-order mark, every text cell neutralised (B7)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Products"))
    sheet.append(list(header))
    for row in rows:
        # Text cells neutralised like the CSVs; numbers stay numbers.
        sheet.append([cell if isinstance(cell, int | Decimal) else csv_cell(cell) for cell in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- Building -----------------------------------------------------------------------------------


def kit_write(
    target,
    items: list[KitProduct],
    pricing: KitPricing,
    progress: Callable[[int], None] = lambda percent: None,
) -> None:
    """Write the kit's zip to the file object `target`."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(SHOPIFY_FILE, csv_bytes(SHOPIFY_COLUMNS, shopify_rows(items, pricing)))
        archive.writestr(
            WOOCOMMERCE_FILE, csv_bytes(WOOCOMMERCE_COLUMNS, woocommerce_rows(items, pricing))
        )
        archive.writestr(XLSX_FILE, xlsx_bytes(XLSX_COLUMNS, xlsx_rows(items, pricing)))
        progress(20)
        images = [image for item in items for image in item.images]
        for done, image in enumerate(images, start=1):
            with default_storage.open(image.path, "rb") as source:
                # Images are compressed already: stored, not deflated again.
                archive.writestr(image.name, source.read(), compress_type=zipfile.ZIP_STORED)
            progress(20 + 75 * done // len(images))


def _progress_writer(kit_id: int) -> Callable[[int], None]:
    last = {"percent": 0}

    def write(percent: int) -> None:
        percent = max(0, min(percent, 99))
        if percent - last["percent"] >= PROGRESS_STEP:
            last["percent"] = percent
            ProductKit.objects.filter(pk=kit_id).update(progress=percent)

    return write


def kit_build(kit_id: int) -> ProductKit | None:
    """Build the kit's zip and mark it ready, or failed (with no file) if anything goes wrong.
    A kit no longer waiting (built already, expired, deleted) is left alone."""
    claimed = ProductKit.objects.filter(
        pk=kit_id, status__in=[ProductKit.Status.PENDING, ProductKit.Status.BUILDING]
    ).update(status=ProductKit.Status.BUILDING, progress=0)
    if not claimed:
        return None
    kit = ProductKit.objects.select_related("member").get(pk=kit_id)
    try:
        items = kit_items(kit_products(kit))
        if not items:
            raise KitRefused(_("This kit has no products to list."))
        pricing = pricing_for(kit.member)
        with tempfile.TemporaryFile() as scratch:
            kit_write(scratch, items, pricing, _progress_writer(kit.pk))
            scratch.seek(0)
            stamp = timezone.localtime(kit.created_at).strftime("%Y%m%d-%H%M%S")
            kit.file.save(f"kit-{kit.pk}-{stamp}.zip", File(scratch), save=False)
        ProductKit.objects.filter(pk=kit.pk).update(
            file=kit.file.name, status=ProductKit.Status.READY, progress=100
        )
    except Exception:
        logger.exception("Product kit %s failed to build", kit_id)
        if kit.file.name:
            default_storage.delete(kit.file.name)
        ProductKit.objects.filter(pk=kit.pk).update(status=ProductKit.Status.FAILED, file="")
    kit.refresh_from_db()
    return kit


@shared_task(acks_late=True, ignore_result=True)
def kit_build_task(kit_id: int) -> None:
    kit_build(kit_id)


def _kit_title(kind: str, products: list[Product], category: Category | None) -> str:
    if kind == ProductKit.Kind.CATEGORY and category is not None:
        return category.name
    if kind == ProductKit.Kind.NEW_ARRIVALS:
        return str(ProductKit.Kind.NEW_ARRIVALS.label)
    if len(products) == 1:
        return products[0].name
    return _("%(count)s products") % {"count": len(products)}


def kit_request(
    *,
    member,
    kind: str,
    product_ids: Sequence[int] = (),
    category: Category | None = None,
    now: datetime | None = None,
) -> ProductKit:
    """Create a kit for an approved member: one product is built at once, anything bigger by
    the kit task after commit. Raises KitRefused with a message for the member."""
    from members.selectors import member_can_order

    if not member_can_order(member):
        raise KitRefused(
            _("Product kits are for approved distributors; your account is not approved yet.")
        )
    now = now or timezone.now()
    products: list[Product] = []
    if kind in (ProductKit.Kind.PRODUCT, ProductKit.Kind.SELECTION):
        ids = sorted({int(pk) for pk in product_ids})
        if len(ids) > SELECTION_LIMIT:
            raise KitRefused(
                _("A kit holds at most %(limit)s chosen products; for more, use a category kit.")
                % {"limit": SELECTION_LIMIT}
            )
        products = list(Product.objects.published().filter(pk__in=ids).only("pk", "name"))
        if not products:
            raise KitRefused(_("Choose at least one product for the kit."))
        kind = ProductKit.Kind.PRODUCT if len(products) == 1 else ProductKit.Kind.SELECTION
    elif kind == ProductKit.Kind.CATEGORY:
        if category is None:
            raise KitRefused(_("Choose a category for the kit."))
    elif kind != ProductKit.Kind.NEW_ARRIVALS:
        raise KitRefused(_("Unknown kind of kit."))
    kit = ProductKit.objects.create(
        member=member,
        kind=kind,
        product_ids=[p.pk for p in products],
        category=category if kind == ProductKit.Kind.CATEGORY else None,
        title=_kit_title(kind, products, category)[:200],
        created_at=now,
        expires_at=now + timedelta(days=KIT_DAYS),
    )
    if products and len(products) <= SYNC_LIMIT:
        return kit_build(kit.pk)
    transaction.on_commit(lambda: kit_build_task.delay(kit.pk))
    return kit


def kits_expire(*, now: datetime | None = None) -> int:
    """Delete the files of kits past their time and mark them expired; returns how many."""
    now = now or timezone.now()
    count = 0
    for kit in ProductKit.objects.filter(expires_at__lte=now).exclude(
        status=ProductKit.Status.EXPIRED
    ):
        if kit.file.name:
            default_storage.delete(kit.file.name)
        ProductKit.objects.filter(pk=kit.pk).update(status=ProductKit.Status.EXPIRED, file="")
        count += 1
    return count


@shared_task(acks_late=True, ignore_result=True)
def kits_expire_task() -> int:
    """Beat job, daily: expired kits' files are deleted."""
    return kits_expire()


# --- Reads for the pages -------------------------------------------------------------------------


def kits_of(member, *, limit: int = 50) -> list[ProductKit]:
    return list(ProductKit.objects.filter(member=member)[:limit])


def kit_of(member, kit_id: int) -> ProductKit:
    """The member's own ready kit; anyone else's id is a 404."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(ProductKit, pk=kit_id, member=member, status=ProductKit.Status.READY)

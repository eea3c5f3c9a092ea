"""The product kit's three formats (orders.kits): Shopify's current product CSV template and
its rules, WooCommerce's variable/variation rows, the Excel sheet, the buyer's prices, and
CSV injection (B7) neutralised without breaking Shopify's required columns."""

import csv
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from catalog.models import Product
from members.models import Distributor, Level
from orders import kits
from tests.factories import DistributorFactory, ProductFactory

pytestmark = pytest.mark.django_db

# Shopify's documented product CSV columns, in the order of the current template
# (help.shopify.com/en/manual/products/import-export/using-csv, product_template.csv).
SHOPIFY_DOCUMENTED = [
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
    "Option1 Linked To",
    "Option2 name",
    "Option2 value",
    "Option2 Linked To",
    "Option3 name",
    "Option3 value",
    "Option3 Linked To",
    "Price",
    "Compare-at price",
    "Cost per item",
    "Charge tax",
    "Tax code",
    "Unit price total measure",
    "Unit price total measure unit",
    "Unit price base measure",
    "Unit price base measure unit",
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
]
# The pre-2024 names that the current template renamed: none may appear.
SHOPIFY_OLD_NAMES = {"Handle", "Body (HTML)", "Variant SKU", "Variant Price", "Image Src"}
HANDLE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
IMAGE_COLUMNS = {"URL handle", "Product image URL", "Image position", "Image alt text"}
USD = kits.KitPricing(currency="USD")


class _Image:
    def __init__(self, name):
        self.name = name


def items_for(*products, images=0):
    """Kit items for `products` with `images` fake pictures each (formats only read paths)."""
    loaded = Product.objects.filter(pk__in=[p.pk for p in products]).prefetch_related(
        "variants", "tiers", "images"
    )
    items = kits.kit_items(loaded.order_by("pk"))
    return [
        kits.KitProduct(
            item.product,
            item.handle,
            item.variants,
            [
                kits.KitImage(
                    f"p/{n}.jpg",
                    f"images/{item.handle}-{n}.jpg",
                    f"images/{item.handle}-{n}.jpg",
                    "alt",
                    n,
                )
                for n in range(1, images + 1)
            ],
        )
        for item in items
    ]


def parse(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


class TestShopify:
    def test_the_header_is_the_current_documented_template(self):
        header = list(kits.SHOPIFY_COLUMNS)
        assert not SHOPIFY_OLD_NAMES & set(header)
        # Every column is documented, in the documented order.
        positions = [SHOPIFY_DOCUMENTED.index(column) for column in header]
        assert positions == sorted(positions)
        for required in ("Title", "URL handle", "Option1 name", "Option1 value", "SKU", "Price"):
            assert required in header

    def test_one_row_per_variant_then_one_per_further_image(self):
        product = ProductFactory(name="Linen Shirt, Blue!", variants=["S", "M", "L"])
        rows = parse(
            kits.csv_bytes(
                kits.SHOPIFY_COLUMNS, kits.shopify_rows(items_for(product, images=3), USD)
            )
        )
        variant_rows = [r for r in rows if r["SKU"]]
        image_rows = [r for r in rows if not r["SKU"]]
        assert [r["SKU"] for r in variant_rows] == [f"{product.slug.upper()}-{s}" for s in "SML"]
        assert len(image_rows) == 2
        for row in image_rows:
            assert {k for k, v in row.items() if v} == IMAGE_COLUMNS
        assert [r["Image position"] for r in rows if r["Product image URL"]] == ["1", "2", "3"]
        for row in rows:
            assert HANDLE.match(row["URL handle"])
        assert variant_rows[0]["Title"] == "Linen Shirt, Blue!"
        assert variant_rows[1]["Title"] == ""  # the product's fields only on its first row

    def test_options_are_named_and_optionless_products_get_default_title(self):
        sized = ProductFactory(variants=["S", "M"], option1_name="Size")
        plain = ProductFactory(variants=[""], option1_name="")
        rows = parse(
            kits.csv_bytes(kits.SHOPIFY_COLUMNS, kits.shopify_rows(items_for(sized, plain), USD))
        )
        assert [(r["Option1 name"], r["Option1 value"]) for r in rows] == [
            ("Size", "S"),
            ("Size", "M"),
            ("Title", "Default Title"),
        ]

    def test_the_handle_is_lowercase_hyphens(self):
        product = ProductFactory(name="x")
        Product.objects.filter(pk=product.pk).update(slug="Big__Box--2024_")
        product.refresh_from_db()
        assert kits.handle_for(product) == "big-box-2024"

    def test_a_formula_name_is_neutralised_and_the_required_columns_stay_valid(self):
        product = ProductFactory(name='=HYPERLINK("http://evil.test","x")')
        rows = parse(
            kits.csv_bytes(kits.SHOPIFY_COLUMNS, kits.shopify_rows(items_for(product), USD))
        )
        assert rows[0]["Title"].startswith("'=")
        assert HANDLE.match(rows[0]["URL handle"])
        assert rows[0]["Price"] == "4.20"
        assert rows[0]["Option1 name"] == "Size"


class TestWooCommerce:
    def test_a_variable_parent_then_its_variations(self):
        product = ProductFactory(name="Hoodie", variants=["S", "M"], option1_name="Size")
        rows = parse(
            kits.csv_bytes(
                kits.WOOCOMMERCE_COLUMNS, kits.woocommerce_rows(items_for(product, images=2), USD)
            )
        )
        parent, *variations = rows
        assert parent["Type"] == "variable"
        assert parent["Attribute 1 name"] == "Size"
        assert parent["Attribute 1 value(s)"] == "S, M"
        assert parent["Attribute 1 visible"] == "1"
        assert parent["Images"] == ", ".join(
            f"images/{kits.handle_for(product)}-{n}.jpg" for n in (1, 2)
        )
        assert [v["Type"] for v in variations] == ["variation", "variation"]
        assert {v["Parent"] for v in variations} == {parent["SKU"]}
        assert [v["Attribute 1 value(s)"] for v in variations] == ["S", "M"]
        assert [v["Regular price"] for v in variations] == ["4.20", "4.20"]

    def test_a_product_without_options_is_simple(self):
        product = ProductFactory(variants=[""], option1_name="")
        rows = parse(
            kits.csv_bytes(kits.WOOCOMMERCE_COLUMNS, kits.woocommerce_rows(items_for(product), USD))
        )
        assert [r["Type"] for r in rows] == ["simple"]

    def test_a_formula_name_is_neutralised(self):
        product = ProductFactory(name="=1+2")
        rows = parse(
            kits.csv_bytes(kits.WOOCOMMERCE_COLUMNS, kits.woocommerce_rows(items_for(product), USD))
        )
        assert rows[0]["Name"] == "'=1+2"
        assert rows[1]["Name"].startswith("'=1+2")


class TestExcel:
    def test_opens_with_one_row_per_variant(self):
        products = [ProductFactory(variants=["S", "M", "L"]), ProductFactory(variants=["One"])]
        data = kits.xlsx_bytes(kits.XLSX_COLUMNS, kits.xlsx_rows(items_for(*products), USD))
        sheet = load_workbook(io.BytesIO(data), read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == kits.XLSX_COLUMNS
        assert len(rows) == 1 + 4
        assert {row[2] for row in rows[1:]} == {v.sku for p in products for v in p.variants.all()}


class TestPrices:
    def test_wholesale_less_the_level_discount_and_the_markup(self):
        pricing = kits.KitPricing("USD", Decimal("5"), Decimal("60"))
        assert pricing.wholesale(Decimal("4.20")) == Decimal("3.99")
        assert pricing.retail(Decimal("4.20")) == Decimal("6.38")  # 3.99 × 1.6 = 6.384

    def test_without_markup_the_retail_price_is_the_wholesale_price(self):
        pricing = kits.KitPricing("USD", Decimal("0"), None)
        assert pricing.retail(Decimal("4.20")) == Decimal("4.20")

    def test_the_members_level_and_markup(self):
        distributor = DistributorFactory(retail_markup_percent=Decimal("100"))
        Distributor.objects.filter(pk=distributor.pk).update(level=Level.objects.get(name="Gold"))
        member = type(distributor.user).objects.get(pk=distributor.user_id)
        pricing = kits.pricing_for(member)
        assert pricing.discount_percent == Level.objects.get(name="Gold").discount_percent
        assert pricing.markup_percent == Decimal("100")

    def test_a_variants_own_price_is_its_list_price(self):
        product = ProductFactory(variants=["S"])
        variant = product.variants.get()
        variant.price = Decimal("5.00")
        variant.save()
        rows = list(kits.shopify_rows(items_for(product), kits.KitPricing("USD", Decimal("10"))))
        at = kits.SHOPIFY_COLUMNS.index("Price")
        assert rows[0][at] == "4.50"

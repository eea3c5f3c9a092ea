"""A buyer's downloaded kit, its Shopify CSV read as Shopify's importer reads it: the rules of
the current product CSV template (help.shopify.com/en/manual/products/import-export/using-csv)
checked row by row over a kit of products with two options, none, and several pictures.

`shopify_import_problems` lists what the importer would reject or misread; a clean kit has
none. Each rule is also shown to catch a file that breaks it, so the checker itself is tested.
"""

import csv
import io
import re
import zipfile
from decimal import Decimal, InvalidOperation

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from catalog.images import product_image_add
from catalog.models import ProductKit, Variant
from catalog.services import product_refresh
from orders import kits
from tests.factories import DistributorFactory, ProductFactory

pytestmark = pytest.mark.django_db

HANDLE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
BOOLEAN = {"TRUE", "FALSE"}
PRODUCT_ONLY = ("Title", "Description", "Vendor", "Type", "Tags", "Status", "SEO title")
IMAGE_ROW = {"URL handle", "Product image URL", "Image position", "Image alt text"}
OLD_NAMES = {"Handle", "Body (HTML)", "Variant SKU", "Variant Price", "Image Src", "Published"}


def _money(value: str) -> bool:
    try:
        return Decimal(value) >= 0 and re.fullmatch(r"\d+(\.\d{1,2})?", value) is not None
    except InvalidOperation:
        return False


def shopify_import_problems(text: str) -> list[str]:
    """What Shopify's product import would refuse or misread in this CSV."""
    problems = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    if OLD_NAMES & set(header):
        problems.append(f"pre-2024 column names {sorted(OLD_NAMES & set(header))}")
    if "URL handle" not in header or "Title" not in header:
        return [*problems, "no URL handle or Title column"]
    rows = list(reader)
    seen_handles, finished, skus = {}, set(), set()
    for number, row in enumerate(rows, start=2):
        handle = row["URL handle"]
        where = f"line {number} ({handle})"
        if not HANDLE.match(handle):
            problems.append(f"{where}: the handle is not lowercase letters, digits and hyphens")
        if handle in finished:
            problems.append(f"{where}: the rows of one product are not together")
        previous = rows[number - 3]["URL handle"] if number > 2 else None
        if previous is not None and previous != handle:
            finished.add(previous)
        product = seen_handles.setdefault(handle, {"combinations": set(), "names": None})
        first = previous != handle
        if first and not row["Title"]:
            problems.append(f"{where}: the product's first row has no Title")
        if not first and any(row[column] for column in PRODUCT_ONLY if column in row):
            problems.append(f"{where}: product fields repeated on a later row")
        is_variant = bool(row["Option1 value"])
        if not is_variant:
            filled = {column for column, value in row.items() if value}
            if filled - IMAGE_ROW or not row["Product image URL"]:
                problems.append(f"{where}: a row that is neither a variant nor an image")
            continue
        names = tuple(row[f"Option{n} name"] for n in (1, 2, 3))
        values = tuple(row[f"Option{n} value"] for n in (1, 2, 3))
        if any(value and not name for name, value in zip(names, values, strict=True)):
            problems.append(f"{where}: an option value without its option name")
        if product["names"] is not None and names != product["names"]:
            problems.append(f"{where}: option names differ between variants")
        product["names"] = names
        if values in product["combinations"]:
            problems.append(f"{where}: two variants with the same options")
        product["combinations"].add(values)
        if row["SKU"]:
            if row["SKU"] in skus:
                problems.append(f"{where}: SKU {row['SKU']} twice")
            skus.add(row["SKU"])
        for column in ("Price", "Cost per item"):
            if row[column] and not _money(row[column]):
                problems.append(f"{where}: {column} {row[column]!r} is not a plain amount")
        if not row["Price"]:
            problems.append(f"{where}: a variant without a price")
        for column in ("Published on online store", "Charge tax", "Requires shipping"):
            if row[column] and row[column] not in BOOLEAN:
                problems.append(f"{where}: {column} must be TRUE or FALSE")
        if row["Status"] and row["Status"] not in {"Active", "Draft", "Archived"}:
            problems.append(f"{where}: unknown Status {row['Status']!r}")
        if row["Continue selling when out of stock"] not in {"", "DENY", "CONTINUE"}:
            problems.append(f"{where}: out-of-stock policy must be DENY or CONTINUE")
        if row["Inventory tracker"] not in {"", "shopify"}:
            problems.append(f"{where}: unknown inventory tracker")
        if row["Inventory quantity"] and not row["Inventory quantity"].lstrip("-").isdigit():
            problems.append(f"{where}: the inventory quantity is not a whole number")
        if row["Weight unit for display"] not in {"", "g", "kg", "lb", "oz"}:
            problems.append(f"{where}: unknown weight unit")
    for number, row in enumerate(rows, start=2):
        url = row["Product image URL"]
        if url and not url.startswith(("http://", "https://")):
            problems.append(f"line {number}: image {url!r} is not a public http(s) address")
        if url and not row["Image position"].isdigit():
            problems.append(f"line {number}: the image position is not a number")
    return problems


def pictured(product, colours):
    for colour in colours:
        buffer = io.BytesIO()
        Image.new("RGB", (900, 700), colour).save(buffer, "JPEG")
        product_image_add(
            product=product, upload=SimpleUploadedFile("p.jpg", buffer.getvalue(), "image/jpeg")
        )
    return product


@pytest.fixture
def downloaded(settings, tmp_path):
    """The Shopify CSV of a buyer's kit of three products, downloaded over HTTP."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WHOLESALE_SITE_URL = "https://shop.example"
    distributor = DistributorFactory(retail_markup_percent=Decimal("80"))
    member = type(distributor.user).objects.get(pk=distributor.user_id)
    two_options = ProductFactory(
        name="Canvas Tote Bag, Natural", variants=[], option1_name="Colour", option2_name="Size"
    )
    for position, (colour, size) in enumerate(
        [("Natural", "M"), ("Natural", "L"), ("Black", "M"), ("Black", "L")]
    ):
        Variant.objects.create(
            product=two_options,
            sku=f"TOTE-{colour[:3].upper()}-{size}",
            option1=colour,
            option2=size,
            stock=40,
            weight_grams=180,
            position=position,
        )
    product_refresh(product_ids=[two_options.pk])
    pictured(two_options, ["red", "blue", "green"])
    plain = ProductFactory(name="Gift Box", variants=[""], option1_name="")
    pictured(plain, ["white"])
    sized = pictured(ProductFactory(name="Cotton Tee (Unisex)"), ["black", "grey"])
    client = Client()
    client.force_login(member)
    ids = [two_options.pk, plain.pk, sized.pk]
    client.post("/account/kits/new/", {"kind": "selection", "product": ids})
    kit = ProductKit.objects.get(member=member)
    assert kit.status == ProductKit.Status.READY
    response = client.get(f"/account/kits/{kit.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return archive.read(kits.SHOPIFY_FILE).decode("utf-8")


def test_the_kits_shopify_csv_breaks_none_of_the_import_rules(downloaded):
    problems = shopify_import_problems(downloaded)
    rows = list(csv.DictReader(io.StringIO(downloaded.lstrip("\ufeff"))))
    print(f"\nShopify CSV: {len(rows)} rows, {len(problems)} problems")
    assert problems == []
    handles = [row["URL handle"] for row in rows]
    assert len(set(handles)) == 3
    tote = [row for row in rows if row["URL handle"] == handles[0]]
    # Four variants, then the two further pictures.
    assert [bool(row["SKU"]) for row in tote] == [True] * 4 + [False] * 2
    assert {(row["Option1 name"], row["Option2 name"]) for row in tote[:4]} == {("Colour", "Size")}
    plain = next(row for row in rows if row["Title"] == "Gift Box")
    assert (plain["Option1 name"], plain["Option1 value"]) == ("Title", "Default Title")
    # The buyer's markup: Price is the suggested retail price, Cost per item their price.
    assert Decimal(tote[0]["Price"]) == Decimal(tote[0]["Cost per item"]) * Decimal("1.8")


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda r: r[1].update({"URL handle": "Canvas Tote"}), "lowercase"),
        (lambda r: r[0].update({"Title": ""}), "no Title"),
        (lambda r: r[1].update({"Title": "Again"}), "repeated"),
        (lambda r: r[1].update({"Option2 value": r[0]["Option2 value"]}), "same options"),
        (lambda r: r[0].update({"Price": "$4.20"}), "plain amount"),
        (lambda r: r[0].update({"Charge tax": "yes"}), "TRUE or FALSE"),
        (lambda r: r[-1].update({"Product image URL": "images/x.jpg"}), "public http"),
        (lambda r: r.append(dict(r[0])), "not together"),
    ],
)
def test_the_checker_catches_each_broken_rule(downloaded, breakage, expected):
    reader = csv.DictReader(io.StringIO(downloaded.lstrip("\ufeff")))
    rows = list(reader)
    breakage(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
    writer.writeheader()
    writer.writerows(rows)
    problems = shopify_import_problems(out.getvalue())
    assert any(expected in problem for problem in problems), problems

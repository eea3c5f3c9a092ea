"""RELIABILITY B8 in the admin: script payloads saved in a distributor's company and contact
names, an address line, a parcel's carrier and tracking number, the buyer's order note and an
order history note, shown to the super admin in headless Chromium.

The figure: 3 payloads on 12 admin pages (the distributor, order and address lists, and each
distributor's, order's (with its lines, parcels and history) and address's page), 0 executed:
no dialog, `window.__xss` never set, no element carrying an injected event handler, and none of
the payloads' markup unescaped in the HTML the server sent or the page's DOM.
"""

import pytest

from members.models import Distributor
from orders import lifecycle
from tests.factories import (
    AddressFactory,
    DistributorFactory,
    ProductFactory,
    StaffFactory,
    place_order,
)

from .admin_pages import admin_log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '"><img src=x onerror="window.__xss=1">',
    "x onmouseover=window.__xss=1",
)
# Unescaped markup a payload would leave in the HTML; the third payload holds no markup, and is
# caught instead by the handler it would add if written into an unquoted attribute.
RAW_MARKUP = ("<script>window.__xss", "<img src=x onerror")
# Elements the payloads would create: a script setting the flag, an element with a handler.
INJECTED = """() => [
    ...[...document.scripts].filter((s) => s.textContent.includes("__xss")),
    ...document.querySelectorAll("[onerror], [onmouseover]"),
].length"""
HOVER_ALL = """() => document.querySelectorAll("#content *").forEach(
    (element) => element.dispatchEvent(new MouseEvent("mouseover", {bubbles: true})))"""
FIELD_VALUES = """() => [...document.querySelectorAll("#content input, #content textarea")].map(
    (field) => field.value)"""


def records_with_payloads(admin):
    """Per payload: a distributor named with it, an address and a paid, shipped order carrying
    it, through the same services the shop and the admin use."""
    product = ProductFactory(variants__stock=500)
    size = product.variants.order_by("position").first()
    pages = []
    for index, payload in enumerate(PAYLOADS):
        distributor = DistributorFactory(company_name=f"Co{index} {payload}", contact_name=payload)
        address = AddressFactory(member=distributor.user, company=payload, line1=payload)
        order = place_order(distributor.user, {size: 60}, address=address, note=payload)
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=admin)
        lifecycle.shipment_add(
            order_id=order.pk, carrier=payload, tracking_number=f"{payload} {index}", by=admin
        )
        lifecycle.order_note(order_id=order.pk, by=admin, reason=payload)
        pages += [
            (f"/admin/members/distributor/{distributor.pk}/change/", f"Co{index}"),
            (f"/admin/orders/order/{order.pk}/change/", order.number),
            (f"/admin/members/address/{address.pk}/change/", "Madrid"),
        ]
    lists = [
        ("/admin/members/distributor/", "Co2"),
        ("/admin/orders/order/", "Co2"),
        ("/admin/members/address/", "Madrid"),
    ]
    return lists + pages


def test_payloads_in_admin_pages_are_shown_as_text_and_never_run(live_server, new_page):
    admin = StaffFactory(is_superuser=True)
    pages = records_with_payloads(admin)
    assert Distributor.objects.filter(company_name__contains="<script>").count() == 1

    page = new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    admin_log_in(page, live_server.url, admin.email)

    failures = {}
    for path, expected in pages:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        # The page shows the record, and the payloads as the text they are, in the page or in
        # the form's fields.
        shown = page.locator("#content").inner_text()
        shown += "\n".join(page.evaluate(FIELD_VALUES))
        assert expected in shown, path
        assert any(payload in shown for payload in PAYLOADS), path
        # Hover every element once, so that an injected mouse-over handler would fire.
        page.evaluate(HOVER_ALL)
        flag = page.evaluate("() => typeof window.__xss")
        injected = page.evaluate(INJECTED)
        # As sent by the server, and as the browser holds it after parsing and scripts.
        html = response.text() + page.content()
        unescaped = [markup for markup in RAW_MARKUP if markup in html]
        if (flag, injected, unescaped) != ("undefined", 0, []):
            failures[path] = {"__xss": flag, "injected": injected, "unescaped": unescaped}

    executed = len(dialogs) + sum(
        (found["__xss"] != "undefined") + found["injected"] + len(found["unescaped"])
        for found in failures.values()
    )
    print(f"\nB8 (admin): {len(PAYLOADS)} payloads x {len(pages)} pages, {executed} executed")
    assert (dialogs, failures) == ([], {})
    assert (len(PAYLOADS), len(pages), executed) == (3, 12, 0)

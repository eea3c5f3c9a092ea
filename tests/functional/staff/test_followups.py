"""Follow-up emails over HTTP: sending one from an order's page, who may (sales on their own
orders, customer service on handed-over ones, the manager; finance not), bad input, escaping
(B8), and the templates' admin. Run with -s for the figures."""

import pytest
from django.core import mail

from orders.models import OrderEvent
from staff.grants import access_grant
from staff.models import AccessGrant, FollowUpSent, FollowUpTemplate
from tests.factories import StaffFactory
from tests.integration.staff.followup_helpers import (
    order_for,
    owned_distributor,
    sales_user,
    ship,
    staff_in,
)

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"
TEMPLATES = "/admin/staff/followuptemplate/"


def followup_url(order) -> str:
    return f"{ORDERS}{order.pk}/follow-up/"


@pytest.fixture
def world():
    sales1 = sales_user("Lily", email="lily@shop.example")
    sales2 = sales_user("Kevin")
    finance = staff_in("finance")
    mine = owned_distributor(sales1, company_name="Mine Trading", contact_name="Ana Ruiz")
    theirs = owned_distributor(sales2, company_name="Theirs Trading")
    my_order, their_order = order_for(mine), order_for(theirs)
    ship(my_order, by=finance, tracking_number="JD0001")
    ship(their_order, by=finance, tracking_number="JD0002")
    return {
        "sales1": sales1,
        "sales2": sales2,
        "finance": finance,
        "my_order": my_order,
        "their_order": their_order,
    }


@pytest.fixture
def shipping_notice():
    return FollowUpTemplate.objects.get(step="shipping_notice")


def send(client, order, chosen, **fields):
    """POST the follow-up page: `chosen`'s subject and text unless `fields` say otherwise."""
    data = {"template": chosen.pk, "subject": chosen.subject, "body": chosen.body}
    return client.post(followup_url(order), {**data, **fields})


class TestSendingFromTheOrderPage:
    def test_the_order_page_has_the_button_and_lists_what_was_sent(
        self, client, world, shipping_notice
    ):
        client.force_login(world["sales1"])
        order = world["my_order"]
        page = client.get(f"{ORDERS}{order.pk}/change/").content.decode()
        assert f'href="{followup_url(order)}"' in page and "Send follow-up" in page
        send(client, order, shipping_notice, subject="Parcel {tracking_number} left today")
        page = client.get(f"{ORDERS}{order.pk}/change/").content.decode()
        assert "Follow-ups sent" in page.replace("follow-ups sent", "Follow-ups sent")
        assert "Parcel JD0001 left today" in page

    def test_picking_a_template_shows_it_filled_in_for_the_order(
        self, client, world, shipping_notice, django_assert_max_num_queries
    ):
        client.force_login(world["sales1"])
        order = world["my_order"]
        with django_assert_max_num_queries(20):
            response = client.get(followup_url(order), {"template": shipping_notice.pk})
        assert response.status_code == 200
        page = response.content.decode()
        assert "{tracking_number}" in page  # the editable text keeps its merge fields
        assert f"Order {order.number} has shipped" in page  # the preview is filled in
        assert "Tracking number: JD0001" in page and "Dear Ana Ruiz," in page
        assert not mail.outbox and not FollowUpSent.objects.exists()

    def test_sales_sends_on_their_own_order(
        self, client, world, shipping_notice, django_capture_on_commit_callbacks
    ):
        client.force_login(world["sales1"])
        order = world["my_order"]
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = send(
                client,
                order,
                shipping_notice,
                body="Dear {customer_name},\n\nYour parcel {tracking_number} is on its way.",
            )
        assert response.status_code == 302
        assert response["Location"] == f"{ORDERS}{order.pk}/change/"
        [email] = mail.outbox
        assert email.to == [order.email]
        assert email.subject == f"Order {order.number} has shipped"
        assert email.body == "Dear Ana Ruiz,\n\nYour parcel JD0001 is on its way."
        sent = FollowUpSent.objects.get()
        assert (sent.order, sent.template, sent.sent_by) == (
            order,
            shipping_notice,
            world["sales1"],
        )
        assert sent.body == email.body
        assert OrderEvent.objects.filter(
            order=order, kind=OrderEvent.Kind.NOTE, reason="Follow-up sent: Shipping notice"
        ).exists()

    def test_previewing_sends_nothing(self, client, world, shipping_notice):
        client.force_login(world["sales1"])
        response = send(
            client, world["my_order"], shipping_notice, body="Hi {company}", _preview="1"
        )
        assert response.status_code == 200
        assert "Hi Mine Trading" in response.content.decode()
        assert not FollowUpSent.objects.exists() and not mail.outbox


class TestWhoMaySend:
    def test_another_salespersons_order_is_not_found(self, client, world, shipping_notice):
        client.force_login(world["sales1"])
        their_order = world["their_order"]
        get = client.get(followup_url(their_order), {"template": shipping_notice.pk})
        post = send(client, their_order, shipping_notice)
        assert (get.status_code, post.status_code) == (404, 404)
        assert "Theirs Trading" not in get.content.decode() + post.content.decode()
        assert not FollowUpSent.objects.exists() and not mail.outbox
        print("\nA3 (follow-up page): sales1 on sales2's order → 404, 404")

    def test_finance_may_not(self, client, world, shipping_notice):
        client.force_login(world["finance"])
        order = world["my_order"]
        assert client.get(followup_url(order)).status_code == 403
        assert send(client, order, shipping_notice).status_code == 403
        assert "Send follow-up" not in client.get(f"{ORDERS}{order.pk}/change/").content.decode()
        assert not FollowUpSent.objects.exists()

    def test_customer_service_only_on_a_handed_over_order(self, client, world, shipping_notice):
        service = staff_in("customer_service")
        client.force_login(service)
        my_order, their_order = world["my_order"], world["their_order"]
        access_grant(my_order, to=service, by=world["sales1"], kind=AccessGrant.Kind.HANDOVER)
        assert client.get(followup_url(my_order)).status_code == 200
        assert client.get(followup_url(their_order)).status_code == 404
        assert send(client, my_order, shipping_notice).status_code == 302
        assert FollowUpSent.objects.get().sent_by == service

    @pytest.mark.parametrize("who", ["manager", "superuser"])
    def test_the_manager_and_the_super_admin_may(self, client, world, shipping_notice, who):
        user = StaffFactory(is_superuser=True) if who == "superuser" else staff_in("manager")
        client.force_login(user)
        assert client.get(followup_url(world["their_order"])).status_code == 200
        assert send(client, world["their_order"], shipping_notice).status_code == 302

    def test_anonymous_goes_to_the_login(self, client, world):
        response = client.get(followup_url(world["my_order"]))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


class TestBadInput:
    @pytest.mark.parametrize("template_id", ["999999", "abc", ""])
    def test_a_template_that_does_not_exist_is_a_form_error(
        self, client, world, shipping_notice, template_id
    ):
        client.force_login(world["sales1"])
        response = send(client, world["my_order"], shipping_notice, template=template_id)
        assert response.status_code == 200
        assert "template" in response.context["form"].errors
        assert not FollowUpSent.objects.exists() and not mail.outbox

    def test_an_inactive_template_cannot_be_sent(self, client, world, shipping_notice):
        FollowUpTemplate.objects.filter(pk=shipping_notice.pk).update(is_active=False)
        client.force_login(world["sales1"])
        response = send(client, world["my_order"], shipping_notice)
        assert "template" in response.context["form"].errors
        assert not FollowUpSent.objects.exists()

    def test_picking_a_template_that_does_not_exist_is_a_form_error(self, client, world):
        client.force_login(world["sales1"])
        response = client.get(followup_url(world["my_order"]), {"template": "999999"})
        assert response.status_code == 200
        assert "template" in response.context["pick"].errors

    def test_an_unknown_merge_field_is_a_form_error(self, client, world, shipping_notice):
        client.force_login(world["sales1"])
        response = send(
            client, world["my_order"], shipping_notice, subject="{order}", body="Hi {name}"
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert "{order}" in errors["subject"][0] and "{name}" in errors["body"][0]
        assert "Unknown merge field {name}" in response.content.decode()
        assert not FollowUpSent.objects.exists() and not mail.outbox

    def test_a_stored_template_with_an_unknown_merge_field_shows_the_error(
        self, client, world, shipping_notice
    ):
        FollowUpTemplate.objects.filter(pk=shipping_notice.pk).update(body="Hi {firstname}")
        client.force_login(world["sales1"])
        response = client.get(followup_url(world["my_order"]), {"template": shipping_notice.pk})
        assert response.status_code == 200
        assert "{firstname}" in response.context["form"].errors["body"][0]

    def test_empty_fields_are_form_errors(self, client, world, shipping_notice):
        client.force_login(world["sales1"])
        response = send(client, world["my_order"], shipping_notice, subject="", body="")
        assert set(response.context["form"].errors) == {"subject", "body"}


class TestEscaping:
    def test_script_in_the_company_and_tracking_is_escaped_on_the_page_and_in_the_email(
        self, client, world, shipping_notice, django_capture_on_commit_callbacks
    ):
        distributor = owned_distributor(world["sales1"], company_name="<script>alert(1)</script>")
        order = order_for(distributor)
        ship(
            order,
            by=world["finance"],
            tracking_number='"><img src=x onerror=alert(2)>',
            tracking_url="",
        )
        client.force_login(world["sales1"])
        body = "{company} {tracking_number} {carrier}"

        preview = send(client, order, shipping_notice, body=body, _preview="1")
        page = preview.content.decode()
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            send(client, order, shipping_notice, body=body)
        html = mail.outbox[0].alternatives[0][0]
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

        order_page = client.get(f"{ORDERS}{order.pk}/change/").content.decode()
        assert "<script>alert(1)" not in order_page and "<img src=x" not in order_page
        print("\nB8 (follow-up page, order page, email): raw <script / <img: 0")


class TestTheTemplatesAdmin:
    def test_the_manager_edits_a_template(self, client, shipping_notice):
        client.force_login(staff_in("manager"))
        page = client.get(f"{TEMPLATES}{shipping_notice.pk}/change/").content.decode()
        assert "{customer_name}" in page and "{tracking_url}" in page  # the help text
        response = client.post(
            f"{TEMPLATES}{shipping_notice.pk}/change/",
            {
                "step": "shipping_notice",
                "name": "Shipped (short)",
                "subject": "{order_number} shipped",
                "body": "Hi {customer_name}",
                "position": "5",
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        shipping_notice.refresh_from_db()
        assert shipping_notice.name == "Shipped (short)"

    def test_an_unknown_merge_field_in_a_template_is_a_form_error(self, client, shipping_notice):
        client.force_login(staff_in("manager"))
        response = client.post(
            f"{TEMPLATES}add/",
            {
                "step": "after_sales",
                "name": "Visit",
                "subject": "Hello {buyer}",
                "body": "Hi {customer_name}",
                "position": "0",
            },
        )
        assert response.status_code == 200
        assert "{buyer}" in response.context["adminform"].form.errors["subject"][0]
        assert FollowUpTemplate.objects.count() == 6

    @pytest.mark.parametrize("role", ["sales", "customer_service"])
    def test_sales_and_customer_service_only_read_them(self, client, shipping_notice, role):
        client.force_login(staff_in(role))
        assert client.get(TEMPLATES).status_code == 200
        assert client.get(f"{TEMPLATES}{shipping_notice.pk}/change/").status_code == 200
        assert client.get(f"{TEMPLATES}add/").status_code == 403
        response = client.post(
            f"{TEMPLATES}{shipping_notice.pk}/change/",
            {"step": "shipping_notice", "name": "Hacked", "subject": "x", "body": "y"},
        )
        assert response.status_code == 403
        assert (
            client.post(f"{TEMPLATES}{shipping_notice.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        shipping_notice.refresh_from_db()
        assert shipping_notice.name == "Shipping notice"

    def test_finance_and_the_editor_do_not_see_them(self, client):
        for role in ("finance", "editor"):
            client.force_login(staff_in(role))
            assert client.get(TEMPLATES).status_code == 403

    def test_the_list_shows_step_and_active_flag_in_a_fixed_number_of_queries(
        self, client, django_assert_max_num_queries
    ):
        client.force_login(staff_in("manager"))
        with django_assert_max_num_queries(12):
            response = client.get(TEMPLATES)
        page = response.content.decode()
        assert "Tracking update with ETA" in page and "After-sales visit" in page
        assert list(response.context["cl"].result_list) == list(FollowUpTemplate.objects.all())
        inactive = client.get(TEMPLATES, {"is_active__exact": "0"})
        assert list(inactive.context["cl"].result_list) == []


class TestTheSentList:
    def test_finance_reads_it_and_sales_does_not(
        self, client, world, shipping_notice, django_assert_max_num_queries
    ):
        client.force_login(world["sales1"])
        send(client, world["my_order"], shipping_notice)
        send(client, world["my_order"], shipping_notice)
        assert client.get("/admin/staff/followupsent/").status_code == 403
        client.force_login(world["finance"])
        with django_assert_max_num_queries(14):
            response = client.get("/admin/staff/followupsent/")
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == 2
        sent = FollowUpSent.objects.first()
        assert (
            client.post(f"/admin/staff/followupsent/{sent.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )

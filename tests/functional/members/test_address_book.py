"""The address book over HTTP, its services and its admin: list, add, edit, delete, default;
B3 (another member's address ids), the pinned query count, CSRF and the one-default rule."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from members import services
from members.models import Address, Distributor
from tests.factories import AddressFactory, DistributorFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db

BOOK = "/account/addresses/"
ADD = "/account/addresses/add/"

NEW = {
    "name": "Marta Ruiz",
    "company": "Ruiz Moda SL",
    "line1": "Gran Via 2",
    "line2": "3º B",
    "city": "Bilbao",
    "region": "Bizkaia",
    "postal_code": "48001",
    "country": "ES",
    "phone": "+34 944 000 000",
}


def edit_url(address) -> str:
    return f"{BOOK}{address.pk}/edit/"


def delete_url(address) -> str:
    return f"{BOOK}{address.pk}/delete/"


def default_url(address) -> str:
    return f"{BOOK}{address.pk}/default/"


def book_of(member) -> list[tuple]:
    return list(
        Address.objects.filter(member=member)
        .order_by("pk")
        .values_list("pk", "name", "city", "is_default", "is_end_customer", "updated_at")
    )


def page_text(response) -> str:
    return response.content.decode()


class TestTheList:
    def test_shows_own_addresses_and_end_customers_apart(self, buyer_client, buyer):
        AddressFactory(member=buyer, is_default=True, city="Madrid")
        AddressFactory(member=buyer, name="Jean Client", city="Lyon", is_end_customer=True)
        html = page_text(buyer_client.get(BOOK))
        own, _, customers = html.partition('data-testid="end-customer-addresses"')
        assert "Madrid" in own and "Lyon" not in own
        assert "Jean Client" in customers
        assert "Default" in own

    def test_shows_no_one_elses(self, buyer_client):
        AddressFactory(member=DistributorFactory().user, name="Someone Else")
        html = page_text(buyer_client.get(BOOK))
        assert "Someone Else" not in html
        assert "No address yet" in html

    def test_a_guest_is_sent_to_log_in(self, client):
        for url in (BOOK, ADD):
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith("/accounts/login/")

    def test_the_account_page_links_to_it_and_to_the_orders(self, buyer_client):
        html = page_text(buyer_client.get("/account/"))
        assert f'href="{BOOK}"' in html
        assert 'href="/account/orders/"' in html

    @pytest.mark.usefixtures("warm_layout")
    def test_the_query_count_does_not_grow_with_the_addresses(
        self, buyer_client, buyer, django_assert_max_num_queries
    ):
        AddressFactory(member=buyer, is_default=True)
        # Session, user, the addresses; the header's cart count.
        with django_assert_max_num_queries(4) as few:
            assert buyer_client.get(BOOK).status_code == 200
        few_count = len(few.captured_queries)
        for n in range(25):
            AddressFactory(member=buyer, city=f"City {n}", is_end_customer=n % 2 == 0)
        with django_assert_max_num_queries(4) as many:
            assert buyer_client.get(BOOK).status_code == 200
        print(f"address book queries: 1 address {few_count}, 26 {len(many.captured_queries)}")
        assert few_count == len(many.captured_queries)


class TestAdding:
    def test_the_first_own_address_becomes_the_default(self, buyer_client, buyer):
        response = buyer_client.post(ADD, NEW)
        assert response.status_code == 302 and response.url == BOOK
        address = Address.objects.get(member=buyer)
        assert (address.name, address.line2, address.country.code) == ("Marta Ruiz", "3º B", "ES")
        assert address.is_default and not address.is_end_customer

    def test_later_ones_do_not(self, buyer_client, buyer):
        first = AddressFactory(member=buyer, is_default=True)
        buyer_client.post(ADD, NEW)
        assert Address.objects.get(member=buyer, is_default=True) == first

    def test_an_end_customer_is_never_the_default(self, buyer_client, buyer):
        buyer_client.post(ADD, {**NEW, "is_end_customer": "on"})
        address = Address.objects.get(member=buyer)
        assert address.is_end_customer and not address.is_default

    def test_missing_fields_are_explained_and_nothing_saved(self, buyer_client):
        response = buyer_client.post(ADD, {"name": "Marta", "country": "XX"})
        assert response.status_code == 400
        html = page_text(response)
        assert html.count("This field is required.") == 2  # line 1 and city
        assert "Select a valid choice. XX is not one of the available choices." in html
        assert not Address.objects.exists()

    def test_an_empty_post_is_explained(self, buyer_client):
        response = buyer_client.post(ADD, {})
        assert response.status_code == 400
        assert page_text(response).count("This field is required.") == 4
        assert not Address.objects.exists()

    def test_too_long_values_are_refused(self, buyer_client):
        response = buyer_client.post(ADD, {**NEW, "city": "x" * 101})
        assert response.status_code == 400
        assert "at most 100 characters" in page_text(response)
        assert not Address.objects.exists()

    def test_an_owner_or_default_flag_posted_is_ignored(self, buyer_client, buyer):
        other = DistributorFactory().user
        AddressFactory(member=buyer, is_default=True)
        buyer_client.post(ADD, {**NEW, "member": other.pk, "is_default": "on", "pk": 1})
        added = Address.objects.get(name="Marta Ruiz")
        assert added.member == buyer and not added.is_default
        assert not Address.objects.filter(member=other).exists()

    def test_markup_is_shown_as_text(self, buyer_client):
        payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
        buyer_client.post(ADD, {**NEW, "name": payload, "company": payload})
        html = page_text(buyer_client.get(BOOK))
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_offers_country_and_autofill_tokens(self, buyer_client):
        html = page_text(buyer_client.get(ADD))
        assert 'autocomplete="address-line1"' in html
        assert 'autocomplete="postal-code"' in html
        assert '<option value="ES">Spain</option>' in html
        assert 'type="tel"' in html


class TestEditing:
    def test_changes_the_address(self, buyer_client, buyer):
        address = AddressFactory(member=buyer, is_default=True)
        page = page_text(buyer_client.get(edit_url(address)))
        assert 'value="Calle Mayor 1"' in page
        assert '<option value="ES" selected>Spain</option>' in page
        response = buyer_client.post(edit_url(address), {**NEW, "city": "Getxo"})
        assert response.status_code == 302
        address.refresh_from_db()
        assert (address.city, address.line1, address.is_default) == ("Getxo", "Gran Via 2", True)

    def test_orders_keep_the_address_they_were_placed_with(self, buyer_client, buyer):
        from catalog.models import Variant
        from tests.factories import ProductFactory

        product = ProductFactory()
        s, m = Variant.objects.filter(product=product).order_by("position")
        address = AddressFactory(member=buyer, is_default=True)
        order = place_order(buyer, {s: 30, m: 30}, address=address)
        buyer_client.post(edit_url(address), {**NEW, "city": "Getxo"})
        buyer_client.post(delete_url(address))
        order.refresh_from_db()
        assert order.ship_city == "Madrid"
        assert not Address.objects.filter(pk=address.pk).exists()

    def test_turning_the_default_into_an_end_customer_drops_the_default(self, buyer_client, buyer):
        address = AddressFactory(member=buyer, is_default=True)
        buyer_client.post(edit_url(address), {**NEW, "is_end_customer": "on"})
        address.refresh_from_db()
        assert address.is_end_customer and not address.is_default

    def test_bad_values_change_nothing(self, buyer_client, buyer):
        address = AddressFactory(member=buyer)
        before = book_of(buyer)
        response = buyer_client.post(edit_url(address), {**NEW, "line1": ""})
        assert response.status_code == 400
        assert book_of(buyer) == before


class TestDeleting:
    def test_removes_the_address(self, buyer_client, buyer):
        address = AddressFactory(member=buyer)
        response = buyer_client.post(delete_url(address), follow=True)
        assert "Address deleted." in page_text(response)
        assert not Address.objects.filter(pk=address.pk).exists()

    def test_a_get_deletes_nothing(self, buyer_client, buyer):
        address = AddressFactory(member=buyer)
        assert buyer_client.get(delete_url(address)).status_code == 405
        assert buyer_client.get(default_url(address)).status_code == 405
        assert Address.objects.filter(pk=address.pk).exists()


class TestTheDefault:
    def test_switches_to_another_address(self, buyer_client, buyer):
        old = AddressFactory(member=buyer, is_default=True)
        new = AddressFactory(member=buyer, name="Second", city="Sevilla")
        response = buyer_client.post(default_url(new), follow=True)
        assert "Second is now your default address." in page_text(response)
        assert list(Address.objects.filter(member=buyer, is_default=True)) == [new]
        old.refresh_from_db()
        assert not old.is_default

    def test_setting_the_default_again_changes_nothing(self, buyer_client, buyer):
        address = AddressFactory(member=buyer, is_default=True)
        buyer_client.post(default_url(address))
        assert list(Address.objects.filter(member=buyer, is_default=True)) == [address]

    def test_an_end_customer_cannot_be_the_default(self, buyer_client, buyer):
        own = AddressFactory(member=buyer, is_default=True)
        customer = AddressFactory(member=buyer, is_end_customer=True)
        before = book_of(buyer)
        response = buyer_client.post(default_url(customer), follow=True)
        assert "address cannot be your default address." in page_text(response)
        assert book_of(buyer) == before
        assert Address.objects.get(member=buyer, is_default=True) == own

    def test_each_member_keeps_their_own_default(self, buyer_client, buyer):
        other = DistributorFactory().user
        theirs = AddressFactory(member=other, is_default=True)
        mine = AddressFactory(member=buyer)
        buyer_client.post(default_url(mine))
        theirs.refresh_from_db()
        assert theirs.is_default
        assert Address.objects.filter(is_default=True).count() == 2


class TestAnotherMembersAddress:
    """B3 / A5: another member's address id, or one that does not exist, is a 404 on every
    address-book URL, and nothing changes."""

    @pytest.mark.parametrize(
        ("method", "url_of", "data"),
        [
            ("get", edit_url, None),
            ("post", edit_url, NEW),
            ("post", delete_url, None),
            ("post", default_url, None),
        ],
        ids=["edit page", "edit", "delete", "make default"],
    )
    def test_is_a_404_that_changes_nothing(self, buyer_client, method, url_of, data):
        other = DistributorFactory().user
        theirs = AddressFactory(member=other, is_default=False)
        AddressFactory(member=other, is_default=True, city="Barcelona")
        before = book_of(other)
        response = getattr(buyer_client, method)(url_of(theirs), data)
        print(
            f"B3: another member's address, {method.upper()} {url_of(theirs)}: "
            f"{response.status_code}, rows changed {int(book_of(other) != before)}"
        )
        assert response.status_code == 404
        assert book_of(other) == before
        assert "Calle Mayor" not in page_text(response)

    @pytest.mark.parametrize("address_id", ["999999999", str(10**20), "0"])
    def test_an_address_that_does_not_exist(self, buyer_client, buyer, address_id):
        AddressFactory(member=buyer)
        before = book_of(buyer)
        for url in (f"{BOOK}{address_id}/edit/",):
            assert buyer_client.get(url).status_code == 404
        for action in ("delete", "default"):
            assert buyer_client.post(f"{BOOK}{address_id}/{action}/").status_code == 404
        assert book_of(buyer) == before

    def test_a_walk_over_address_ids_finds_nothing_of_anyone_else(self, buyer_client, buyer):
        for _ in range(3):
            AddressFactory(member=DistributorFactory().user)
        mine = AddressFactory(member=buyer)
        before = sorted(Address.objects.values_list("pk", "member_id", "is_default"))
        statuses = set()
        for pk in range(1, mine.pk + 5):
            if pk == mine.pk:
                continue
            statuses.add(buyer_client.get(f"{BOOK}{pk}/edit/").status_code)
            statuses.add(buyer_client.post(f"{BOOK}{pk}/default/").status_code)
            statuses.add(buyer_client.post(f"{BOOK}{pk}/delete/").status_code)
        print(f"A5: walk over address ids: statuses {sorted(statuses)}")
        assert statuses == {404}
        assert sorted(Address.objects.values_list("pk", "member_id", "is_default")) == before


class TestCsrf:
    def test_address_book_posts_without_a_token_are_refused(self, buyer):
        address = AddressFactory(member=buyer)
        client = Client(enforce_csrf_checks=True)
        client.force_login(buyer)
        before = book_of(buyer)
        statuses = [
            client.post(ADD, NEW).status_code,
            client.post(edit_url(address), NEW).status_code,
            client.post(delete_url(address)).status_code,
            client.post(default_url(address)).status_code,
        ]
        print(f"B10: address book posts without a CSRF token: {statuses}")
        assert statuses == [403, 403, 403, 403]
        assert book_of(buyer) == before


class TestTheServices:
    def test_fields_beyond_the_address_are_refused(self, buyer):
        with pytest.raises(ValueError, match="is_default, member"):
            services.address_create(member=buyer, data={**NEW, "member": buyer, "is_default": True})
        assert not Address.objects.exists()

    def test_make_default_moves_the_default(self, buyer):
        first = services.address_create(member=buyer, data=NEW)
        second = services.address_create(member=buyer, data=NEW, make_default=True)
        first.refresh_from_db()
        assert second.is_default and not first.is_default

    def test_an_end_customer_refused_as_default_is_a_validation_error(self, buyer):
        customer = services.address_create(member=buyer, data={**NEW, "is_end_customer": True})
        with pytest.raises(ValidationError):
            services.address_set_default(member=buyer, address_id=customer.pk)


@pytest.mark.django_db(transaction=True)
def test_default_switches_at_the_same_moment_leave_one_default():
    """Ten switches of one member's default at once: no unique-index error, one default."""
    member = DistributorFactory().user
    addresses = [AddressFactory(member=member, city=f"City {n}") for n in range(10)]
    barrier = threading.Barrier(len(addresses))
    errors = []

    def switch(address_id):
        try:
            barrier.wait()
            services.address_set_default(member=member, address_id=address_id)
        except Exception as exc:  # every failure, whatever its kind, is the figure reported
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=switch, args=(a.pk,)) for a in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    defaults = Address.objects.filter(member=member, is_default=True).count()
    print(f"concurrent default switches: errors {len(errors)}, defaults {defaults}")
    assert errors == []
    assert defaults == 1


class TestTheAdmin:
    CHANGELIST = "/admin/members/address/"

    @pytest.fixture
    def staff_client(self):
        client = Client()
        client.force_login(StaffFactory(is_superuser=True))
        return client

    def test_lists_and_searches_addresses(self, staff_client):
        AddressFactory(member=DistributorFactory().user, name="Marta Ruiz", city="Bilbao")
        AddressFactory(member=DistributorFactory().user, name="Jean Client", city="Lyon")
        html = page_text(staff_client.get(self.CHANGELIST, {"q": "bilbao"}))
        assert "Marta Ruiz" in html and "Jean Client" not in html

    def test_is_read_only(self, staff_client):
        address = AddressFactory(member=DistributorFactory().user)
        assert staff_client.get(f"{self.CHANGELIST}{address.pk}/change/").status_code == 200
        assert staff_client.get(f"{self.CHANGELIST}add/").status_code == 403
        staff_client.post(f"{self.CHANGELIST}{address.pk}/change/", {**NEW, "city": "Getxo"})
        response = staff_client.post(f"{self.CHANGELIST}{address.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        address.refresh_from_db()
        assert address.city == "Madrid"

    def test_the_query_count_does_not_grow_with_the_addresses(
        self, staff_client, django_assert_max_num_queries
    ):
        AddressFactory(member=DistributorFactory().user)
        with django_assert_max_num_queries(8) as few:
            assert staff_client.get(self.CHANGELIST).status_code == 200
        few_count = len(few.captured_queries)
        for _ in range(20):
            AddressFactory(member=DistributorFactory().user)
        with django_assert_max_num_queries(8) as many:
            assert staff_client.get(self.CHANGELIST).status_code == 200
        assert few_count == len(many.captured_queries)

    def test_a_distributor_cannot_open_it(self, buyer_client):
        response = buyer_client.get(self.CHANGELIST)
        assert response.status_code == 302
        assert "/admin/login/" in response.url
        assert Distributor.objects.count() == 1

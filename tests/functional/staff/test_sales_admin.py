"""The salespeople's admin page (super admin only) and their referral QR codes."""

import re

import pytest

from members.models import Distributor
from staff.models import OwnershipChange, ReferralVisit
from tests.factories import DistributorFactory, StaffFactory, UserFactory
from tests.integration.staff.helpers import salesperson

pytestmark = pytest.mark.django_db

ADMIN_LIST = "/admin/staff/salesprofile/"


class TestTheQrCode:
    def test_is_an_svg_of_the_absolute_referral_link(self, client):
        sales = salesperson()
        response = client.get(f"/r/{sales.referral_code}/qr.svg")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        svg = response.content.decode()
        assert svg.startswith("<svg") and "<path" in svg
        assert f"<title>http://testserver/r/{sales.referral_code}/</title>" in svg
        assert not ReferralVisit.objects.exists()  # printing a card is not a visit

    def test_an_unknown_or_departed_salesperson_has_none(self, client):
        sales = salesperson()
        assert client.get("/r/nosuchcd/qr.svg").status_code == 404
        sales.user.is_active = False
        sales.user.save()
        assert client.get(f"/r/{sales.referral_code}/qr.svg").status_code == 404


class TestTheSalespeoplePage:
    def test_counts_customers_visits_and_referral_signups(
        self, client, django_assert_max_num_queries
    ):
        lily, kevin = salesperson(first_name="Lily"), salesperson(first_name="Kevin")
        for _ in range(3):
            ReferralVisit.objects.create(sales_profile=lily)
        for owner in (lily.user, lily.user, kevin.user):
            distributor = DistributorFactory()
            Distributor.objects.filter(pk=distributor.pk).update(owner=owner)
        OwnershipChange.objects.create(
            distributor=Distributor.objects.filter(owner=lily.user).first(),
            to_owner=lily.user,
            source=OwnershipChange.Source.REFERRAL,
        )
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        with django_assert_max_num_queries(8):
            html = client.get(ADMIN_LIST).content.decode()
        rows = {
            name: re.sub(r"<[^>]+>", " ", row)
            for name, row in re.findall(r"<tr[^>]*>.*?>(Lily|Kevin)[^<]*<(.*?)</tr>", html, re.S)
        }
        # customers, link visits, signups by link (then assigned in turn and the two revenues)
        assert rows["Lily"].split()[-6:-3] == ["2", "3", "1"]
        assert rows["Kevin"].split()[-6:-3] == ["1", "0", "0"]
        assert f"/r/{lily.referral_code}/qr.svg" in html

    def test_is_the_super_admins_only(self, client):
        from django.contrib.auth.models import Group

        salesperson()
        for role in ("manager", "finance", "sales", "customer_service", "editor"):
            staff = StaffFactory()
            staff.groups.add(Group.objects.get(name=role))
            client.force_login(staff)
            assert client.get(ADMIN_LIST).status_code == 403, role

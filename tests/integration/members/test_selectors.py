import pytest
from django.contrib.auth.models import AnonymousUser

from members.models import Distributor
from members.selectors import distributor_for, member_can_order
from tests.factories import DistributorFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestWhoCanOrder:
    def test_an_approved_active_distributor(self):
        assert member_can_order(DistributorFactory().user) is True

    @pytest.mark.parametrize("status", [Distributor.Status.PENDING, Distributor.Status.REJECTED])
    def test_not_a_distributor_waiting_or_rejected(self, status):
        assert member_can_order(DistributorFactory(status=status).user) is False

    def test_not_a_deactivated_login(self):
        assert member_can_order(DistributorFactory(user__is_active=False).user) is False

    def test_not_a_guest(self):
        assert member_can_order(AnonymousUser()) is False

    def test_not_staff_or_a_login_without_a_profile(self):
        assert member_can_order(StaffFactory()) is False
        assert member_can_order(UserFactory()) is False

    def test_approval_follows_the_status_not_the_setting(self, settings):
        settings.WHOLESALE_REQUIRE_APPROVAL = False
        assert member_can_order(DistributorFactory(status="pending").user) is False


class TestTheDistributorOfAUser:
    def test_is_the_profile_or_none(self):
        distributor = DistributorFactory()
        assert distributor_for(distributor.user) == distributor
        assert distributor_for(StaffFactory()) is None
        assert distributor_for(AnonymousUser()) is None

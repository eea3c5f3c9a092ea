import smtplib

import pytest
from django.core import mail

from members.models import BusinessType, Distributor
from members.services import (
    distributor_register,
    distributor_send_approved_email,
    distributor_set_status,
    distributor_update_profile,
)
from tests.factories import DistributorFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "company_name": "Tienda Ana SL",
    "contact_name": "Ana Ruiz",
    "country": "ES",
    "business_type": BusinessType.ONLINE_SHOP,
    "phone": "+34 600 111 222",
    "website": "",
    "tax_number": "",
}


class TestRegisteringADistributor:
    def test_starts_approved_when_no_approval_is_required(self, settings):
        settings.WHOLESALE_REQUIRE_APPROVAL = False
        distributor = distributor_register(user=UserFactory(), **PROFILE)
        assert distributor.status == Distributor.Status.APPROVED

    def test_starts_pending_when_approval_is_required(self, settings):
        settings.WHOLESALE_REQUIRE_APPROVAL = True
        distributor = distributor_register(user=UserFactory(), **PROFILE)
        assert distributor.status == Distributor.Status.PENDING
        assert not distributor.user.is_approved_buyer


class TestUpdatingTheProfile:
    def test_saves_the_given_fields(self):
        distributor = DistributorFactory()
        distributor_update_profile(
            distributor=distributor, data={"company_name": "New Name", "country": "PT"}
        )
        distributor.refresh_from_db()
        assert (distributor.company_name, distributor.country.code) == ("New Name", "PT")

    def test_refuses_fields_outside_the_profile(self):
        distributor = DistributorFactory(status=Distributor.Status.PENDING)
        with pytest.raises(ValueError, match="status"):
            distributor_update_profile(distributor=distributor, data={"status": "approved"})
        distributor.refresh_from_db()
        assert distributor.status == Distributor.Status.PENDING


class TestSettingTheStatus:
    def test_stamps_who_and_when(self):
        staff = StaffFactory()
        distributor = DistributorFactory(status=Distributor.Status.PENDING)
        before = distributor.status_changed_at
        distributor_set_status(distributor=distributor, status="rejected", by=staff)
        distributor.refresh_from_db()
        assert distributor.status == Distributor.Status.REJECTED
        assert distributor.status_changed_by == staff
        assert distributor.status_changed_at > before

    def test_refuses_an_unknown_status(self):
        distributor = DistributorFactory(status=Distributor.Status.PENDING)
        with pytest.raises(ValueError, match="Unknown distributor status"):
            distributor_set_status(distributor=distributor, status="vip", by=StaffFactory())
        distributor.refresh_from_db()
        assert distributor.status == Distributor.Status.PENDING

    def test_approving_emails_the_distributor_once_the_change_is_committed(
        self, django_capture_on_commit_callbacks
    ):
        distributor = DistributorFactory(status=Distributor.Status.PENDING)
        with django_capture_on_commit_callbacks() as callbacks:
            distributor_set_status(distributor=distributor, status="approved", by=StaffFactory())
            assert mail.outbox == []
        assert len(callbacks) == 1
        callbacks[0]()
        assert [m.to for m in mail.outbox] == [[distributor.user.email]]

    @pytest.mark.parametrize(
        ("before", "after"),
        [("approved", "approved"), ("pending", "rejected"), ("approved", "pending")],
    )
    def test_other_changes_send_nothing(self, django_capture_on_commit_callbacks, before, after):
        distributor = DistributorFactory(status=before)
        with django_capture_on_commit_callbacks(execute=True):
            distributor_set_status(distributor=distributor, status=after, by=StaffFactory())
        assert mail.outbox == []

    def test_a_failing_mail_server_does_not_undo_the_approval(
        self, django_capture_on_commit_callbacks, monkeypatch
    ):
        def refuse(**kwargs):
            raise smtplib.SMTPConnectError(421, "try later")

        monkeypatch.setattr("members.services.send_mail", refuse)
        distributor = DistributorFactory(status=Distributor.Status.PENDING)
        with django_capture_on_commit_callbacks(execute=True):
            distributor_set_status(distributor=distributor, status="approved", by=StaffFactory())
        distributor.refresh_from_db()
        assert distributor.status == Distributor.Status.APPROVED


class TestTheApprovalEmail:
    def test_greets_the_contact_and_links_to_the_shop(self, settings):
        settings.WHOLESALE_SITE_URL = "https://shop.example.com/"
        settings.WHOLESALE_SHOP_NAME = "Acme Wholesale"
        distributor = DistributorFactory(
            contact_name="Ana Ruiz", company_name="Tienda & Co", user__email="ana@shop.example"
        )
        distributor_send_approved_email(distributor_id=distributor.pk)

        message = mail.outbox[0]
        assert message.to == ["ana@shop.example"]
        assert message.subject == "[Acme Wholesale] Your trade account is approved"
        assert "Hello Ana Ruiz," in message.body
        assert "Tienda & Co" in message.body  # plain text: not HTML-escaped
        assert "https://shop.example.com/catalog/" in message.body
        assert "https://shop.example.com/account/" in message.body

    def test_leaves_links_out_when_the_site_address_is_unknown(self, settings):
        settings.WHOLESALE_SITE_URL = ""
        distributor = DistributorFactory()
        distributor_send_approved_email(distributor_id=distributor.pk)
        assert "http" not in mail.outbox[0].body
        assert "approved" in mail.outbox[0].body

"""Owner assignment and transfer (staff.services), and the ownership history."""

import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from members.models import Distributor
from members.services import distributor_register
from staff.models import OwnershipChange, SalesProfile, referral_code_new
from staff.services import owner_assign, owners_transfer
from tests.factories import DistributorFactory, StaffFactory, UserFactory
from tests.integration.staff.helpers import salesperson
from wholesale.ledger import AppendOnlyError

pytestmark = pytest.mark.django_db

Source = OwnershipChange.Source

PROFILE = {
    "company_name": "Tienda Ana SL",
    "contact_name": "Ana Ruiz",
    "country": "ES",
    "business_type": "online_shop",
    "phone": "+34 600 111 222",
}


class TestReferralCodes:
    def test_are_short_url_safe_and_distinct(self):
        codes = {referral_code_new() for _ in range(200)}
        assert len(codes) == 200
        assert all(len(c) == 8 and c.isalnum() and c.islower() for c in codes)

    def test_every_profile_gets_one(self):
        a, b = salesperson(), salesperson()
        assert a.referral_code and b.referral_code and a.referral_code != b.referral_code


class TestOwnerAssign:
    def test_to_a_salesperson_records_the_change(self):
        sales = salesperson()
        manager = StaffFactory()
        distributor = DistributorFactory()

        owner = owner_assign(
            distributor, source=Source.SIGNUP_CHOICE, to_owner=sales.user, by=manager, reason="x"
        )

        assert owner == sales.user
        distributor.refresh_from_db()
        assert distributor.owner == sales.user and distributor.owner_since is not None
        change = OwnershipChange.objects.get()
        assert (change.distributor, change.from_owner, change.to_owner, change.by) == (
            distributor,
            None,
            sales.user,
            manager,
        )
        assert (change.source, change.reason) == (Source.SIGNUP_CHOICE, "x")

    def test_the_same_owner_again_writes_nothing(self):
        sales = salesperson()
        distributor = DistributorFactory()
        owner_assign(distributor, source=Source.REFERRAL, to_owner=sales.user)
        owner_assign(distributor, source=Source.REFERRAL, to_owner=sales.user)
        assert OwnershipChange.objects.count() == 1

    @pytest.mark.parametrize("who", ["customer", "staff_without_profile", "inactive_salesperson"])
    def test_refuses_an_owner_who_is_not_an_active_salesperson(self, who):
        if who == "customer":
            user = UserFactory()
        elif who == "staff_without_profile":
            user = StaffFactory()
        else:
            user = salesperson().user
            user.is_active = False
            user.save()
        distributor = DistributorFactory()
        with pytest.raises(ValidationError):
            owner_assign(distributor, source=Source.SIGNUP_CHOICE, to_owner=user)
        distributor.refresh_from_db()
        assert distributor.owner is None
        assert not OwnershipChange.objects.exists()

    def test_round_robin_goes_round_in_turn(self):
        people = [salesperson(first_name=name) for name in ("A", "B", "C")]
        owners = [owner_assign(DistributorFactory(), source=Source.ROUND_ROBIN) for _ in range(6)]
        expected = [p.user for p in people] * 2
        assert owners == expected
        assert [p.assigned_count for p in SalesProfile.objects.order_by("pk")] == [2, 2, 2]

    def test_round_robin_skips_who_does_not_accept_customers_or_left(self):
        accepting = salesperson()
        salesperson(is_accepting_customers=False)
        gone = salesperson()
        gone.user.is_active = False
        gone.user.save()
        owners = {owner_assign(DistributorFactory(), source=Source.ROUND_ROBIN) for _ in range(3)}
        assert owners == {accepting.user}

    def test_round_robin_with_nobody_leaves_the_distributor_unowned(self):
        distributor = DistributorFactory()
        assert owner_assign(distributor, source=Source.ROUND_ROBIN) is None
        distributor.refresh_from_db()
        assert distributor.owner is None
        assert not OwnershipChange.objects.exists()

    def test_a_referral_does_not_cost_the_salesperson_a_turn(self):
        a, b = salesperson(first_name="A"), salesperson(first_name="B")
        owner_assign(DistributorFactory(), source=Source.REFERRAL, to_owner=a.user)
        assert owner_assign(DistributorFactory(), source=Source.ROUND_ROBIN) == a.user
        assert owner_assign(DistributorFactory(), source=Source.ROUND_ROBIN) == b.user


class TestRegistrationAssignsAnOwner:
    def test_without_a_request_or_choice_in_turn(self):
        sales = salesperson()
        distributor = distributor_register(user=UserFactory(), **PROFILE)
        assert distributor.owner == sales.user
        assert OwnershipChange.objects.get().source == Source.ROUND_ROBIN

    def test_the_chosen_contact(self):
        salesperson(first_name="A")
        chosen = salesperson(first_name="B")
        distributor = distributor_register(user=UserFactory(), chosen_owner=chosen.user, **PROFILE)
        assert Distributor.objects.get(pk=distributor.pk).owner == chosen.user
        assert OwnershipChange.objects.get().source == Source.SIGNUP_CHOICE


class TestTransfer:
    def test_one_customer(self):
        sales1, sales2 = salesperson(), salesperson()
        manager = StaffFactory()
        distributor = DistributorFactory(owner=sales1.user)

        changes = owners_transfer(
            [distributor.pk], to_owner=sales2.user, by=manager, reason="Territory change"
        )

        distributor.refresh_from_db()
        assert distributor.owner == sales2.user
        assert len(changes) == 1
        change = OwnershipChange.objects.get()
        assert (change.from_owner, change.to_owner, change.by, change.source, change.reason) == (
            sales1.user,
            sales2.user,
            manager,
            Source.TRANSFER,
            "Territory change",
        )

    def test_in_bulk_one_history_row_each(self, django_assert_max_num_queries):
        leaving, other, taking_over = salesperson(), salesperson(), salesperson()
        manager = StaffFactory()
        theirs = [DistributorFactory(owner=leaving.user) for _ in range(20)]
        already = DistributorFactory(owner=taking_over.user)
        untouched = DistributorFactory(owner=other.user)

        with django_assert_max_num_queries(6):
            changes = owners_transfer(
                [d.pk for d in [*theirs, already]],
                to_owner=taking_over.user,
                by=manager,
                reason="Leaving the company",
            )

        print(f"A7: {len(changes)} customers transferred, {len(changes)} history rows")
        assert len(changes) == 20
        owners = Counter(Distributor.objects.values_list("owner", flat=True))
        assert owners == {taking_over.user.pk: 21, other.user.pk: 1}
        rows = OwnershipChange.objects.filter(source=Source.TRANSFER)
        assert rows.count() == 20
        assert set(rows.values_list("distributor", flat=True)) == {d.pk for d in theirs}
        assert set(rows.values_list("from_owner", "to_owner", "by")) == {
            (leaving.user.pk, taking_over.user.pk, manager.pk)
        }
        assert untouched.pk not in rows.values_list("distributor", flat=True)

    def test_refuses_a_target_who_is_not_an_active_salesperson(self):
        sales1 = salesperson()
        gone = salesperson()
        gone.user.is_active = False
        gone.user.save()
        distributor = DistributorFactory(owner=sales1.user)
        for target in (gone.user, StaffFactory(), UserFactory()):
            with pytest.raises(ValidationError):
                owners_transfer([distributor.pk], to_owner=target, by=StaffFactory(), reason="x")
        distributor.refresh_from_db()
        assert distributor.owner == sales1.user
        assert not OwnershipChange.objects.exists()

    def test_refuses_without_a_reason(self):
        sales1, sales2 = salesperson(), salesperson()
        distributor = DistributorFactory(owner=sales1.user)
        with pytest.raises(ValidationError):
            owners_transfer([distributor.pk], to_owner=sales2.user, by=StaffFactory(), reason=" ")
        distributor.refresh_from_db()
        assert distributor.owner == sales1.user


class TestHistoryIsAppendOnly:
    def test_rows_cannot_be_changed_or_deleted(self):
        sales = salesperson()
        distributor = DistributorFactory()
        owner_assign(distributor, source=Source.REFERRAL, to_owner=sales.user)
        change = OwnershipChange.objects.get()

        with pytest.raises(AppendOnlyError):
            OwnershipChange.objects.update(reason="rewritten")
        with pytest.raises(AppendOnlyError):
            OwnershipChange.objects.filter(pk=change.pk).delete()
        change.reason = "rewritten"
        with pytest.raises(AppendOnlyError):
            change.save()
        with pytest.raises(AppendOnlyError):
            change.delete()
        assert OwnershipChange.objects.get().reason == ""

    def test_a_distributor_with_history_cannot_be_deleted(self):
        from django.db.models import ProtectedError

        sales = salesperson()
        distributor = DistributorFactory()
        owner_assign(distributor, source=Source.REFERRAL, to_owner=sales.user)
        with pytest.raises(ProtectedError):
            distributor.delete()


@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_are_spread_evenly_in_turn():
    people = [salesperson(first_name=name) for name in ("A", "B", "C")]
    users = [UserFactory() for _ in range(9)]
    barrier = threading.Barrier(len(users))
    errors = []

    def sign_up(user):
        try:
            barrier.wait()
            distributor_register(user=user, **{**PROFILE, "company_name": user.email})
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    spread = Counter(Distributor.objects.values_list("owner", flat=True))
    print(f"round robin: 9 concurrent signups over 3 salespeople: {sorted(spread.values())}")
    assert spread == {p.user.pk: 3 for p in people}
    assert [p.assigned_count for p in SalesProfile.objects.order_by("pk")] == [3, 3, 3]
    assert OwnershipChange.objects.filter(source=Source.ROUND_ROBIN).count() == 9

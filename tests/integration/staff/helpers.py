"""Salespeople for staff tests: staff users with a sales profile."""

from staff.models import SalesProfile
from tests.factories import StaffFactory


def salesperson(first_name="Sam", **profile) -> SalesProfile:
    return SalesProfile.objects.create(user=StaffFactory(first_name=first_name), **profile)

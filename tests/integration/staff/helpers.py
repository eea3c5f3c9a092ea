"""Staff for tests: salespeople with a sales profile, and users put in a role."""

from django.contrib.auth.models import Group

from staff.models import SalesProfile
from tests.factories import StaffFactory


def salesperson(first_name="Sam", **profile) -> SalesProfile:
    return SalesProfile.objects.create(user=StaffFactory(first_name=first_name), **profile)


def in_role(user, role: str):
    """`user` added to the role's group (staff.roles), returned."""
    user.groups.add(Group.objects.get(name=role))
    return user

"""People and conversations for the inquiry tests."""

from __future__ import annotations

import time

from members.models import Distributor
from staff import inquiry_guard
from staff.inquiries import inquiry_create
from tests.factories import DistributorFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'


def sales(first_name: str):
    return in_role(salesperson(first_name=first_name).user, "sales")


def staff_in(role: str, **fields):
    return in_role(StaffFactory(**fields), role)


def customer_of(owner, **fields) -> Distributor:
    """An approved distributor owned by `owner`."""
    distributor = DistributorFactory(**fields)
    Distributor.objects.filter(pk=distributor.pk).update(owner=owner)
    distributor.refresh_from_db()
    return distributor


def guest_inquiry(**fields):
    values = {
        "name": "Maria Rossi",
        "email": "maria@rossi.example",
        "subject": "Price for 300 pieces",
        "body": "What is your price for 300 pieces?",
        **fields,
    }
    return inquiry_create(**values)


def member_message(member, **fields):
    values = {
        "kind": "message",
        "member": member,
        "name": member.get_full_name() or member.email,
        "email": member.email,
        "subject": "Samples",
        "body": "Can we get samples?",
        **fields,
    }
    return inquiry_create(**values)


def aged_stamp(seconds: float = 10) -> str:
    """A form render stamp from `seconds` ago: a person who took that long to write."""
    return inquiry_guard.form_stamp(at=time.time() - seconds)


def contact_data(**fields) -> dict:
    return {
        "name": "Maria Rossi",
        "email": "maria@rossi.example",
        "company": "Boutique Rossi",
        "country": "IT",
        "phone": "+39 02 1234 5678",
        "subject": "Price for 300 pieces",
        "message": "What is your price for 300 pieces, shipped to Milan?",
        "product": "",
        "homepage": "",
        "rendered": aged_stamp(),
        **fields,
    }

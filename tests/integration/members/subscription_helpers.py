"""Helpers for the subscription tests: reading the links out of the emails sent."""

from __future__ import annotations

import re

from django.core import mail

SITE = "https://shop.example"
CONFIRM_LINK = re.compile(r"https://shop\.example(/subscribe/confirm/[^/\s\"<]+/)")
UNSUBSCRIBE_LINK = re.compile(r"https://shop\.example(/unsubscribe/[^/\s\"<]+/)")


def path_in(message, pattern) -> str:
    """The site path of the first link matching `pattern` in the email's text part."""
    found = pattern.search(message.body)
    assert found, message.body
    return found.group(1)


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]

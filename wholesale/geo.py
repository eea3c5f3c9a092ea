"""Where a visitor is: the client's address behind our own proxies, and its country.

The address is REMOTE_ADDR, unless REMOTE_ADDR is one of our trusted proxies
(settings.WHOLESALE_TRUSTED_PROXIES, addresses or networks): then it is the right-most address
of X-Forwarded-For that is not itself a trusted proxy. Everything left of that address was
written by the client, or by proxies we do not know, and is never believed; a header sent by
a peer that is not a trusted proxy is ignored altogether.

The country comes from a local database, loaded once per process on the first lookup: the
one the geoip2fast package ships (IPv4 and IPv6), or a MaxMind .mmdb file when
settings.WHOLESALE_GEOIP_MMDB names one (read with the `maxminddb` package). Private,
loopback, reserved and unknown addresses have no country: callers fall back to
settings.WHOLESALE_DEFAULT_COUNTRY. A lookup costs a few microseconds, and repeated
addresses are answered from a small in-process cache.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import threading
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_countries import countries

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# geoip2fast's file with both IPv4 and IPv6 networks (the default file knows IPv4 only).
GEOIP2FAST_DATA_FILE = "geoip2fast-ipv6.dat.gz"


# --- The client's address ---------------------------------------------------------------------


def parse_address(raw: str) -> Address | None:
    """`raw` as an address (an IPv4-mapped IPv6 address as its IPv4 one), or None. Accepts the
    forms proxies write into X-Forwarded-For: "1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:443"."""
    text = (raw or "").strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"WHOLESALE_TRUSTED_PROXIES: {entry!r} is not an address or a network."
            ) from None
    return tuple(networks)


def trusted_proxies() -> tuple[Network, ...]:
    return _networks(tuple(settings.WHOLESALE_TRUSTED_PROXIES))


def _is_trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str:
    """The visitor's address as text; "" when a trusted proxy forwarded something that is not
    an address (the visitor is then of unknown country)."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = trusted_proxies()
    if not networks or not _is_trusted(parse_address(remote), networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    hops = [part.strip() for part in forwarded if part.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return ""
        if not _is_trusted(address, networks):
            return str(address)
    # Only our own proxies on the way (or no header): the first of them is all we know.
    first = parse_address(hops[0]) if hops else None
    return str(first) if first is not None else remote


# --- The country of an address ----------------------------------------------------------------


class _Database(Protocol):
    def country(self, address: str) -> str: ...


class _GeoIP2Fast:
    """geoip2fast's shipped data. The package keeps its tables in module globals: one
    instance per process."""

    def __init__(self):
        from geoip2fast import GeoIP2Fast

        self._db = GeoIP2Fast(geoip2fast_data_file=GEOIP2FAST_DATA_FILE)

    def country(self, address: str) -> str:
        result = self._db.lookup(address)
        return "" if result.is_private else result.country_code


class _MaxMind:
    """A MaxMind (or compatible) .mmdb file: GeoLite2-Country, GeoIP2-City ..."""

    def __init__(self, path: str):
        try:
            import maxminddb
        except ImportError:  # pragma: no cover - the package is a pinned dependency
            raise ImproperlyConfigured(
                "WHOLESALE_GEOIP_MMDB needs the maxminddb package."
            ) from None
        try:
            self._reader = maxminddb.open_database(path)
        except (OSError, ValueError) as error:
            raise ImproperlyConfigured(
                f"WHOLESALE_GEOIP_MMDB: cannot read {path}: {error}"
            ) from None

    def country(self, address: str) -> str:
        try:
            record = self._reader.get(address)
        except ValueError:
            return ""
        if not isinstance(record, dict):
            return ""
        for key in ("country", "registered_country"):
            found = record.get(key)
            if isinstance(found, dict) and found.get("iso_code"):
                return str(found["iso_code"])
        return ""


_database: _Database | None = None
_database_lock = threading.Lock()


def _open_database() -> _Database:
    global _database
    if _database is None:
        with _database_lock:
            if _database is None:
                path = settings.WHOLESALE_GEOIP_MMDB
                _database = _MaxMind(path) if path else _GeoIP2Fast()
                logger.info("GeoIP database loaded: %s", path or GEOIP2FAST_DATA_FILE)
    return _database


@functools.cache
def country_codes() -> frozenset[str]:
    """The ISO 3166 codes of the countries we know (django-countries' list)."""
    return frozenset(countries.countries)


@functools.lru_cache(maxsize=8192)
def country_for_ip(raw: str) -> str:
    """The ISO 3166 code of the country of address `raw`; "" for an address that is private,
    loopback, reserved or not in the database, and for anything that is not an address.
    Answers are kept per address: a returning visitor costs a dictionary lookup."""
    address = parse_address(raw)
    if address is None or not address.is_global or address.is_multicast:
        return ""
    code = _open_database().country(str(address)).upper()
    return code if code in country_codes() else ""


def reset() -> None:
    """Forget the loaded database and the cached answers (the settings changed)."""
    global _database
    with _database_lock:
        _database = None
    country_for_ip.cache_clear()


@receiver(setting_changed)
def _settings_changed(*, setting, **kwargs):
    if setting == "WHOLESALE_GEOIP_MMDB":
        reset()

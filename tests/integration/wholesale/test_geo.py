"""The visitor's address behind our proxies, its country, and the country's language.

The public addresses below are in geoip2fast's shipped data for the country named (checked
against the installed package): Telefónica Spain, Deutsche Telekom, Orange France, Beeline
Russia, Orange Polska, a Brazilian and a Mexican carrier, Google's DNS.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from wholesale import geo
from wholesale.locale_defaults import language_for_country

SPAIN = "80.58.61.250"
GERMANY = "80.133.1.1"
FRANCE = "90.1.1.1"
RUSSIA = "95.24.1.1"
POLAND = "83.1.1.1"
BRAZIL = "177.12.1.1"
MEXICO = "189.128.1.1"
USA = "8.8.8.8"
SPAIN_V6 = "2a02:9130::1"
GERMANY_V6 = "2003::1"


def request_from(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


class TestTheClientAddress:
    def test_is_the_peer_when_no_proxy_is_trusted(self):
        assert geo.client_ip(request_from(SPAIN)) == SPAIN

    def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(self):
        with override_settings(WHOLESALE_TRUSTED_PROXIES=["10.0.0.0/8"]):
            assert geo.client_ip(request_from(GERMANY, forwarded=SPAIN)) == GERMANY
        with override_settings(WHOLESALE_TRUSTED_PROXIES=[]):
            assert geo.client_ip(request_from("10.0.0.5", forwarded=SPAIN)) == "10.0.0.5"

    @override_settings(WHOLESALE_TRUSTED_PROXIES=["10.0.0.0/8", "192.0.2.7"])
    def test_behind_a_trusted_proxy_is_the_right_most_untrusted_forwarded_address(self):
        # The client wrote the left-most entry itself: only what our proxies appended counts.
        request = request_from("10.0.0.5", forwarded=f"{USA}, {SPAIN}, 192.0.2.7, 10.1.2.3")
        assert geo.client_ip(request) == SPAIN

    @override_settings(WHOLESALE_TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_reads_the_forms_proxies_write(self):
        assert geo.client_ip(request_from("10.0.0.5", forwarded=f"{SPAIN}:41234")) == SPAIN
        assert geo.client_ip(request_from("10.0.0.5", forwarded="[2003::1]:443")) == "2003::1"
        mapped = request_from("::ffff:10.0.0.5", forwarded=f"::ffff:{SPAIN}")
        assert geo.client_ip(mapped) == SPAIN

    @override_settings(WHOLESALE_TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_garbage_forwarded_by_a_trusted_proxy_is_no_address(self):
        assert geo.client_ip(request_from("10.0.0.5", forwarded=f"{SPAIN}, not-an-ip")) == ""

    @override_settings(WHOLESALE_TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_only_trusted_proxies_on_the_way_gives_the_first_of_them(self):
        assert geo.client_ip(request_from("10.0.0.5")) == "10.0.0.5"
        assert geo.client_ip(request_from("10.0.0.5", forwarded="10.9.9.9, 10.0.0.1")) == (
            "10.9.9.9"
        )

    @override_settings(WHOLESALE_TRUSTED_PROXIES=["10.0.0.0/33"])
    def test_a_bad_trusted_proxy_setting_is_reported(self):
        with pytest.raises(ImproperlyConfigured, match="WHOLESALE_TRUSTED_PROXIES"):
            geo.client_ip(request_from("10.0.0.5"))


class TestTheCountryOfAnAddress:
    @pytest.mark.parametrize(
        ("address", "country"),
        [
            (SPAIN, "ES"),
            (GERMANY, "DE"),
            (FRANCE, "FR"),
            (RUSSIA, "RU"),
            (POLAND, "PL"),
            (BRAZIL, "BR"),
            (MEXICO, "MX"),
            (USA, "US"),
            (SPAIN_V6, "ES"),
            (GERMANY_V6, "DE"),
            (f"::ffff:{SPAIN}", "ES"),
        ],
    )
    def test_comes_from_the_shipped_database(self, address, country):
        assert geo.country_for_ip(address) == country

    @pytest.mark.parametrize(
        "address",
        [
            "127.0.0.1",  # loopback
            "10.1.2.3",  # private
            "192.168.1.20",
            "172.16.5.4",
            "100.64.0.1",  # carrier-grade NAT
            "169.254.1.1",  # link-local
            "192.0.2.1",  # documentation
            "240.0.0.1",  # reserved
            "224.0.0.1",  # multicast
            "::1",
            "fe80::1",
            "2001:db8::1",
            "",
            "not-an-ip",
        ],
    )
    def test_is_unknown_for_private_reserved_and_bad_addresses(self, address):
        assert geo.country_for_ip(address) == ""

    def test_the_database_is_loaded_once_on_first_use(self):
        geo.reset()
        assert geo._database is None
        geo.country_for_ip(SPAIN)
        loaded = geo._database
        assert loaded is not None
        geo.country_for_ip(GERMANY)
        assert geo._database is loaded


class TestAMaxMindDatabase:
    @pytest.fixture
    def mmdb(self, tmp_path):
        """A small country database that disagrees with geoip2fast on purpose."""
        writer = MMDBWriter(ip_version=6, database_type="GeoLite2-Country", ipv4_compatible=True)
        writer.insert_network(IPSet(["80.58.0.0/16"]), {"country": {"iso_code": "FR"}})
        writer.insert_network(IPSet(["2003::/19"]), {"registered_country": {"iso_code": "AT"}})
        writer.insert_network(IPSet(["90.0.0.0/13"]), {"continent": {"code": "EU"}})
        path = tmp_path / "countries.mmdb"
        writer.to_db_file(str(path))
        return str(path)

    def test_is_used_when_configured(self, mmdb):
        with override_settings(WHOLESALE_GEOIP_MMDB=mmdb):
            assert geo.country_for_ip(SPAIN) == "FR"
            # The registered country when the file has no country of use.
            assert geo.country_for_ip(GERMANY_V6) == "AT"
            # A network without a country, and one not in the file.
            assert geo.country_for_ip(FRANCE) == ""
            assert geo.country_for_ip(USA) == ""
            assert geo.country_for_ip("10.1.2.3") == ""
        # The setting gone, the shipped database answers again.
        assert geo.country_for_ip(SPAIN) == "ES"

    def test_a_missing_file_is_reported(self, tmp_path):
        missing = str(tmp_path / "missing.mmdb")
        with (
            override_settings(WHOLESALE_GEOIP_MMDB=missing),
            pytest.raises(ImproperlyConfigured, match="WHOLESALE_GEOIP_MMDB"),
        ):
            geo.country_for_ip(SPAIN)


class TestTheLanguageOfACountry:
    @pytest.mark.parametrize(
        ("country", "language"),
        [
            ("ES", "es"),
            ("MX", "es"),
            ("AR", "es"),
            ("CO", "es"),
            ("CL", "es"),
            ("FR", "fr"),
            ("BE", "fr"),
            ("de", "de"),
            ("AT", "de"),
            ("CH", "de"),
            ("RU", "ru"),
            ("BY", "ru"),
            ("KZ", "ru"),
            ("PL", "pl"),
            ("BR", "pt-br"),
            ("PT", "pt-br"),
            ("US", "en"),
            ("GB", "en"),
            ("IT", "en"),
            ("", "en"),
            (None, "en"),
        ],
    )
    def test_is_the_shops_language_spoken_there_else_english(self, country, language):
        assert language_for_country(country) == language

    @override_settings(LANGUAGES=[("en", "English"), ("es", "Spanish")])
    def test_a_language_the_shop_does_not_offer_falls_back_to_the_default(self):
        assert language_for_country("DE") == "en"
        assert language_for_country("ES") == "es"

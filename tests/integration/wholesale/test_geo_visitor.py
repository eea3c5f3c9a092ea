"""The visitor's country and language over HTTP: defaults from the IP, choices that beat them,
the switchers, and the pages that never move.

Addresses: see test_geo.py (all in geoip2fast's shipped data for the country named).
"""

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.factories import PASSWORD, DistributorFactory, StaffFactory
from tests.functional.orders.test_checkout_pages import DELIVERY, fill_cart

pytestmark = pytest.mark.django_db

SPAIN = "80.58.61.250"
GERMANY = "80.133.1.1"
POLAND = "83.1.1.1"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
COOKIE = settings.LANGUAGE_COOKIE_NAME


def visitor(ip=SPAIN, **defaults) -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=BROWSER, **defaults)


def member(preferred_language="", **kwargs):
    return DistributorFactory(user__preferred_language=preferred_language, **kwargs).user


class TestAVisitorFromSpain:
    def test_is_sent_to_the_spanish_page_and_gets_spain_as_country(self):
        client = visitor(SPAIN)
        response = client.get("/catalog/?q=socks")

        assert response.status_code == 302
        assert response.url == "/es/catalog/?q=socks"
        assert response.wsgi_request.country == "ES"
        # Remembered: from now on Spanish is this browser's language.
        assert response.cookies[COOKIE].value == "es"
        assert "no-cache" in response["Cache-Control"]

        page = client.get(response.url)
        assert page.status_code == 200
        assert page.wsgi_request.LANGUAGE_CODE == "es"
        assert page.wsgi_request.country == "ES"

    def test_a_spanish_page_is_not_moved(self):
        response = visitor(SPAIN).get("/es/catalog/")
        assert response.status_code == 200
        assert COOKIE not in response.cookies

    def test_who_chose_english_stays_on_english_pages(self):
        client = visitor(SPAIN)
        client.get("/catalog/")
        chosen = client.post("/i18n/setlang/", {"language": "en", "next": "/es/catalog/"})
        assert chosen.status_code == 302
        assert chosen.url == "/catalog/"
        assert chosen.cookies[COOKIE].value == "en"

        response = client.get("/catalog/")
        assert response.status_code == 200
        assert response.wsgi_request.LANGUAGE_CODE == "en"

    def test_a_language_chosen_before_beats_the_ip(self):
        client = visitor(SPAIN)
        client.cookies[COOKIE] = "pl"
        response = client.get("/catalog/")
        assert response.status_code == 302
        assert response.url == "/pl/catalog/"
        assert COOKIE not in response.cookies  # the choice was already remembered

    def test_other_countries_get_their_own_language(self):
        assert visitor(GERMANY).get("/").url == "/de/"
        assert visitor(POLAND).get("/catalog/").url == "/pl/catalog/"


class TestTheDefault:
    @pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "192.168.0.7", "::1", "bad"])
    def test_an_unknown_or_private_address_gets_the_default_country_in_english(self, ip):
        response = visitor(ip).get("/catalog/")
        assert response.status_code == 200
        assert response.wsgi_request.country == settings.WHOLESALE_DEFAULT_COUNTRY == "US"
        assert response.wsgi_request.LANGUAGE_CODE == "en"
        assert COOKIE not in response.cookies

    @override_settings(WHOLESALE_DEFAULT_COUNTRY="DE")
    def test_is_the_configured_country(self):
        response = visitor("10.1.2.3").get("/catalog/")
        assert response.wsgi_request.country == "DE"
        # The default country decides the currency and such, not the language: no redirect.
        assert response.status_code == 200


class TestTheForwardedAddress:
    def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(self):
        with override_settings(WHOLESALE_TRUSTED_PROXIES=["10.0.0.0/8"]):
            response = visitor("192.0.2.10", HTTP_X_FORWARDED_FOR=SPAIN).get("/catalog/")
        assert response.status_code == 200
        assert response.wsgi_request.country == "US"

    def test_no_header_is_believed_without_trusted_proxies(self):
        response = visitor("10.0.0.5", HTTP_X_FORWARDED_FOR=SPAIN).get("/catalog/")
        assert response.status_code == 200
        assert response.wsgi_request.country == "US"

    @override_settings(WHOLESALE_TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_the_header_of_a_trusted_proxy_is_honoured(self):
        client = visitor("10.0.0.5", HTTP_X_FORWARDED_FOR=f"203.0.113.1, {SPAIN}")
        response = client.get("/catalog/")
        assert response.status_code == 302
        assert response.url == "/es/catalog/"
        assert response.wsgi_request.country == "ES"


class TestAnExplicitCountry:
    def test_beats_the_ip(self):
        client = visitor(SPAIN)
        response = client.post("/i18n/country/", {"country": "de", "next": "/es/catalog/"})
        assert response.status_code == 302
        assert response.url == "/es/catalog/"
        assert client.session["country"] == "DE"

        page = client.get("/es/catalog/")
        assert page.wsgi_request.country == "DE"
        # The language stays the visitor's: shipping somewhere is not reading its language.
        assert page.wsgi_request.LANGUAGE_CODE == "es"
        assert '<option value="DE" selected>' in page.content.decode()

    def test_an_unknown_country_changes_nothing(self):
        client = visitor(SPAIN)
        client.post("/i18n/country/", {"country": "DE"})
        response = client.post("/i18n/country/", {"country": "XX", "next": "/es/"}, follow=True)
        assert client.session["country"] == "DE"
        assert "Choose one of the countries offered." in response.content.decode()
        for code in ("ESP", "es-x"):  # not ES, whatever their first two letters
            response = client.post("/i18n/country/", {"country": code, "next": "/es/"}, follow=True)
            assert "Choose one of the countries offered." in response.content.decode()
        assert client.session["country"] == "DE"

    def test_an_empty_choice_goes_back_to_the_ip(self):
        client = visitor(SPAIN)
        client.post("/i18n/country/", {"country": "DE"})
        client.post("/i18n/country/", {"country": ""})
        assert "country" not in client.session
        assert client.get("/es/").wsgi_request.country == "ES"

    def test_is_a_post(self):
        assert visitor(SPAIN).get("/i18n/country/?country=DE").status_code == 405

    def test_a_members_choice_needs_their_csrf_token(self):
        client = visitor(SPAIN, enforce_csrf_checks=True)
        client.force_login(member())
        assert client.post("/i18n/country/", {"country": "DE"}).status_code == 403
        assert "country" not in client.session

    def test_a_guests_choice_needs_no_token(self):
        # A guest's cached pages carry no token; the choice changes only their own session.
        client = visitor(SPAIN, enforce_csrf_checks=True)
        assert client.post("/i18n/country/", {"country": "DE"}).status_code == 302
        assert client.session["country"] == "DE"


class TestAMember:
    def test_their_preferred_language_beats_the_ip(self):
        client = visitor(SPAIN)
        client.force_login(member(preferred_language="de"))
        response = client.get("/catalog/")
        assert response.status_code == 302
        assert response.url == "/de/catalog/"

    def test_who_prefers_english_is_not_moved(self):
        client = visitor(SPAIN)
        client.force_login(member(preferred_language="en"))
        client.cookies[COOKIE] = "es"
        response = client.get("/catalog/")
        assert response.status_code == 200
        assert response.wsgi_request.LANGUAGE_CODE == "en"

    def test_without_a_preference_the_ip_decides_like_for_a_guest(self):
        client = visitor(SPAIN)
        client.force_login(member())
        assert client.get("/account/").url == "/es/account/"

    def test_their_preferred_language_becomes_the_browsers_at_login(self):
        buyer = member(preferred_language="pl")
        client = visitor("127.0.0.1")
        response = client.post("/accounts/login/", {"login": buyer.email, "password": PASSWORD})
        assert response.status_code == 302
        assert response.cookies[COOKIE].value == "pl"
        assert client.get("/").url == "/pl/"

    def test_the_switcher_saves_their_choice(self):
        buyer = member()
        client = visitor("127.0.0.1")
        client.force_login(buyer)
        response = client.post("/i18n/setlang/", {"language": "fr", "next": "/account/"})
        assert response.status_code == 302
        assert response.url == "/fr/account/"
        assert response.cookies[COOKIE].value == "fr"
        buyer.refresh_from_db()
        assert buyer.preferred_language == "fr"

        # On another device, without the cookie.
        other = visitor("127.0.0.1")
        other.force_login(buyer)
        assert other.get("/catalog/").url == "/fr/catalog/"

    def test_the_switcher_checks_a_members_csrf_token(self):
        buyer = member()
        client = visitor("127.0.0.1", enforce_csrf_checks=True)
        client.force_login(buyer)
        assert client.post("/i18n/setlang/", {"language": "fr"}).status_code == 403
        buyer.refresh_from_db()
        assert buyer.preferred_language == ""

    def test_the_new_address_at_checkout_starts_in_the_chosen_country(self):
        buyer = member(country="ES")
        fill_cart(buyer)
        client = visitor("127.0.0.1")
        client.force_login(buyer)
        assert client.get(DELIVERY).context["new_form"].initial == {"country": "ES"}

        client.post("/i18n/country/", {"country": "PL"})
        assert client.get(DELIVERY).context["new_form"].initial == {"country": "PL"}


class TestTheLanguageSwitcher:
    def test_is_in_the_header_with_each_language_in_its_own_name(self):
        html = visitor("127.0.0.1").get("/catalog/").content.decode()
        assert 'data-testid="language-switcher"' in html
        assert 'action="/i18n/setlang/"' in html
        assert '<input type="hidden" name="next" value="/catalog/">' in html
        assert '<option value="en" lang="en" selected>English</option>' in html
        for code, name in [("es", "Español"), ("de", "Deutsch"), ("ru", "Русский")]:
            assert f'<option value="{code}" lang="{code}">{name}</option>' in html
        assert '<option value="US" selected>' in html  # Ship to: the visitor's country

    def test_a_guest_changes_the_language_of_the_page_they_are_on(self):
        client = visitor("127.0.0.1", enforce_csrf_checks=True)
        response = client.post("/i18n/setlang/", {"language": "ru", "next": "/catalog/?q=a"})
        assert response.status_code == 302
        assert response.url == "/ru/catalog/?q=a"
        assert response.cookies[COOKIE].value == "ru"
        page = client.get(response.url)
        assert page.wsgi_request.LANGUAGE_CODE == "ru"
        assert '<option value="ru" lang="ru" selected>' in page.content.decode()

    def test_a_language_the_shop_does_not_offer_changes_nothing(self):
        client = visitor("127.0.0.1")
        response = client.post("/i18n/setlang/", {"language": "it", "next": "/catalog/"})
        assert response.status_code == 302
        assert response.url == "/catalog/"
        assert COOKIE not in response.cookies

    def test_the_next_page_must_be_ours(self):
        response = visitor("127.0.0.1").post(
            "/i18n/setlang/", {"language": "de", "next": "https://evil.example/"}
        )
        assert response.status_code == 302
        assert not response.url.startswith("https://evil.example")

    def test_cached_guest_pages_show_each_visitor_their_own_country(self):
        spain = visitor(SPAIN).get("/es/catalog/").content.decode()
        germany = visitor(GERMANY).get("/es/catalog/").content.decode()
        again = visitor(SPAIN).get("/es/catalog/").content.decode()
        assert '<option value="ES" selected>' in spain
        assert '<option value="DE" selected>' in germany
        assert '<option value="ES" selected>' in again
        assert '<option value="DE" selected>' not in again


class TestPagesThatNeverMove:
    @pytest.mark.parametrize(
        "path", ["/admin/login/", "/healthz", "/static/css/shop.css", "/i18n/setlang/"]
    )
    def test_staff_and_machine_urls(self, path):
        response = visitor(SPAIN).get(path)
        assert not (response.get("Location") or "").startswith("/es/")
        assert COOKIE not in response.cookies

    def test_analytics(self):
        client = visitor(SPAIN)
        client.force_login(StaffFactory(is_superuser=True))
        response = client.get("/analytics/")
        assert response.status_code == 200
        assert COOKIE not in response.cookies

    def test_a_post_to_an_english_page(self):
        response = visitor(SPAIN).post("/catalog/")
        assert response.status_code == 405

    def test_a_stripe_webhook(self):
        response = visitor(SPAIN).get("/payments/stripe/webhook/")
        assert not (response.get("Location") or "").startswith("/es/")

    @pytest.mark.parametrize(
        "agent",
        [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "facebookexternalhit/1.1",
            "curl/8.5.0",
            "",
        ],
    )
    def test_crawlers_and_scripts(self, agent):
        response = Client(REMOTE_ADDR=SPAIN, HTTP_USER_AGENT=agent).get("/catalog/")
        assert response.status_code == 200
        assert response.wsgi_request.LANGUAGE_CODE == "en"
        # Their country is still known.
        assert response.wsgi_request.country == "ES"

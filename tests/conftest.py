import pytest
from django.core.cache import cache
from django.test import override_settings


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: page fragments, rate-limit counters, versions."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    """Test users get their password hashed in a blink: the real hasher's cost (about half a
    second a user) would only make the suite slow. The settings keep Django's default.
    (Not through the `settings` fixture, which would then be undone after the cache clean-up
    above and leave a test's dead cache in place for it.)"""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _default_language_and_currency():
    """Each test starts in English and the base currency. A request to /ru/… leaves Russian
    active in the thread (LocaleMiddleware activates a language per request and never resets
    it), which would otherwise carry over into the next test's services and emails."""
    from django.utils import translation

    from wholesale import currencies

    translation.deactivate()
    currencies.deactivate()
    yield
    translation.deactivate()
    currencies.deactivate()


@pytest.fixture
def buyer(db):
    from tests.factories import DistributorFactory

    return DistributorFactory().user


@pytest.fixture
def buyer_client(client, buyer):
    client.force_login(buyer)
    return client


@pytest.fixture(autouse=True)
def _tasks_inline(request):
    """Tasks run inline, in the test's own transaction, unless the test drives a real worker
    (marked `real_worker`): a test has no worker to consume the broker's queue."""
    from wholesale.celery import app

    if request.node.get_closest_marker("real_worker"):
        yield
        return
    # The app reads Django's CELERY_-prefixed settings, and a prefixed key wins over the
    # plain one: set it under the name the app looks up.
    key = "CELERY_TASK_ALWAYS_EAGER"
    previous = app.conf.get(key)
    app.conf[key] = True
    assert app.conf.task_always_eager
    yield
    app.conf[key] = previous


@pytest.fixture
def warm_layout(db):
    """The parts of the shop's layout that a running shop holds in its cache (company page
    links, live chat, payment settings), filled before a query count is pinned, so the pin
    counts what the page costs rather than a cache emptied for the test. What they cost cold
    is pinned by their own tests (tests/functional/staff/test_showcase.py)."""
    from orders.payment_settings import country_rules, payment_methods_enabled
    from staff.showcase import shop_chrome
    from wholesale.currencies import active_currencies

    shop_chrome()
    payment_methods_enabled()
    country_rules()
    active_currencies()

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Logins here hash many passwords; the real hasher's cost would only make the tests slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

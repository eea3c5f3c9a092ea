"""Where the bench runs: its database, its Redis database and the environment of its server.

Every process of the bench (the seeding, the checks, gunicorn) gets its settings from
``bench_env()``: production-like (DEBUG off, manifest static files, real Redis cache), with only
what a laptop needs relaxed (no SSL redirect, host 127.0.0.1, prices shown to everyone, emails
rendered but not sent).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
STATIC_ROOT = RESULTS_DIR / "static"

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wholesale_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

# Variables of the caller's shell that would change what is measured; the bench sets its own.
_DROPPED = {
    "DEBUG",
    "WHOLESALE_TESTING",
    "WHOLESALE_URLCONF",
    "WHOLESALE_PAGE_CACHE_SECONDS",
    "WHOLESALE_PAGE_SIZE",
    "WHOLESALE_CACHE_PREFIX",
    "CELERY_BROKER_URL",
    "LOG_LEVEL",
    "DJANGO_SETTINGS_MODULE",
    "EMAIL_BACKEND",
    "STRIPE_SECRET_KEY",
}


def bench_env(*, page_cache_seconds: int = 0) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "wholesale.settings",
            "WHOLESALE_URLCONF": "bench.urls",
            "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "WHOLESALE_SSL_REDIRECT": "0",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "WHOLESALE_CACHE_PREFIX": "bench",
            "WHOLESALE_PRICES_VISIBLE_TO": "everyone",
            "WHOLESALE_PAGE_CACHE_SECONDS": str(page_cache_seconds),
            "WHOLESALE_STATIC_ROOT": str(STATIC_ROOT),
            "LOG_LEVEL": "WARNING",
            # Order emails are rendered but not sent: there is no mail server here, and an
            # SMTP round trip inside the request would be measured as the shop's own time.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def setup_django(*, page_cache_seconds: int = 0) -> None:
    """Configure this process like the bench server and start Django."""
    env = bench_env(page_cache_seconds=page_cache_seconds)
    for name in _DROPPED - env.keys():
        os.environ.pop(name, None)
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()

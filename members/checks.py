from django.conf import settings
from django.core.checks import Warning, register

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register("security", deploy=True)
def check_rate_limit_cache(app_configs, **kwargs):
    """allauth counts failed logins in the cache; a per-process cache gives each worker its own
    budget (and a dummy cache none at all), so production needs a shared one such as Redis."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in LOCAL_CACHES:
        return [
            Warning(
                "The default cache is not shared between processes, so login rate limits "
                "do not hold across workers.",
                hint="Set REDIS_URL.",
                id="members.W001",
            )
        ]
    return []

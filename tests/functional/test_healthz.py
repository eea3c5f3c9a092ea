import pytest

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_reports_every_service_up(client, settings):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    if settings.CELERY_BROKER_URL:
        assert body["checks"]["broker"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_dead_cache_is_a_503(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "down"


def test_a_dead_broker_is_a_503(client, settings):
    from wholesale.celery import app

    settings.CELERY_BROKER_URL = DEAD_REDIS
    previous = app.conf.broker_url
    app.conf.broker_url = DEAD_REDIS
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "down"


def test_without_a_broker_tasks_run_inline_and_health_is_fine(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "not configured" in response.json()["checks"]["broker"]


def test_only_get(client):
    assert client.post("/healthz").status_code in (403, 405)

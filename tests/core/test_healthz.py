"""/healthz: database, cache and broker, with the failing part named."""

import pytest
from kombu import Connection

from config.celery import app as celery_app

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


def test_healthy_with_eager_broker(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "eager", "outbox": "ok"},
        "outbox": {"pending": 0, "oldest_seconds": 0},
    }
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_503_when_the_cache_is_down(client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "error"
    assert data["checks"]["database"] == "ok"
    assert data["checks"]["cache"].startswith("error: ")
    assert "ConnectionError" in data["checks"]["cache"]


def test_503_when_the_broker_is_down(client, db, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(
        celery_app, "connection_for_write", lambda *args, **kwargs: Connection(CLOSED_PORT_REDIS)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["cache"] == "ok"
    assert checks["broker"].startswith("error: ")


@pytest.mark.services
def test_broker_is_really_checked_with_redis(client, db, settings, uses_real_services):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "outbox": "ok",
    }

"""docker-compose.yml: parses, and its services match the Makefile and the settings."""

import re
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _settings_env_names() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env(?:_bool|_int|_list)?\("([A-Z_]+)"', source))


def test_compose_has_every_service():
    assert set(_compose()["services"]) == {"postgres", "redis", "mailpit", "web", "worker", "beat"}


def test_app_services_only_use_variables_the_settings_read():
    known = _settings_env_names()
    for name in ("web", "worker", "beat"):
        env = _compose()["services"][name]["environment"]
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables the settings never read: {unknown}"


def test_worker_listens_on_the_queue_tasks_are_sent_to():
    command = " ".join(_compose()["services"]["worker"]["command"])
    makefile = (ROOT / "Makefile").read_text()
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert f"--queues={queue}" in command
    assert f"celery -A config worker --loglevel=INFO --queues={queue}" in makefile


def test_web_runs_gunicorn_on_the_wsgi_app_and_checks_health():
    web = _compose()["services"]["web"]
    assert "gunicorn config.wsgi" in web["command"]
    assert "/healthz" in " ".join(web["healthcheck"]["test"])


def test_app_points_at_the_compose_database_and_redis():
    services = _compose()["services"]
    env = services["web"]["environment"]
    pg = services["postgres"]["environment"]
    assert env["DATABASE_URL"] == (
        f"postgres://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/"
        f"{pg['POSTGRES_DB']}"
    )
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["EMAIL_HOST"] == "mailpit"


def test_beat_runs_the_schedule():
    assert _compose()["services"]["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_web_worker_and_beat_have_health_checks():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["healthcheck"]["test"], name

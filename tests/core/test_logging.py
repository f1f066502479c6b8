"""Structured JSON logs (LOG_FORMAT=json) and optional error reporting (SENTRY_DSN)."""

import json
import logging
import os
import subprocess
import sys
import types

import pytest
from django.conf import settings

from core.logging import JsonFormatter, RequestIDLogFilter, current_request_id, init_sentry

ENV = {
    "PATH": os.environ.get("PATH", ""),
    "HUB_TESTING": "0",
    "DEBUG": "1",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def _record(msg="hello %s", args=("world",), **extra) -> logging.LogRecord:
    record = logging.LogRecord("hub.test", logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    RequestIDLogFilter().filter(record)
    return record


def test_json_line_has_message_level_logger_and_request_id():
    token = current_request_id.set("req-1234abcd")
    try:
        line = JsonFormatter().format(_record())
    finally:
        current_request_id.reset(token)
    entry = json.loads(line)
    assert entry["message"] == "hello world"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "hub.test"
    assert entry["request_id"] == "req-1234abcd"
    assert entry["time"].endswith("+00:00")
    assert "\n" not in line


def test_json_line_keeps_extras_and_tracebacks():
    try:
        raise ValueError("bad value")
    except ValueError:
        record = _record(job_id=42, exc_info=sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["job_id"] == 42
    assert "ValueError: bad value" in entry["exc_info"]


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_plain_format_is_the_default():
    result = _run(
        "import django, logging; django.setup(); logging.getLogger('hub.x').warning('ready')"
    )
    line = result.stderr.strip().splitlines()[-1]
    assert line.endswith("WARNING [-] hub.x: ready")


def test_log_format_json_writes_json_lines():
    result = _run(
        "import django, logging; django.setup(); logging.getLogger('hub.x').warning('ready %d', 1)",
        LOG_FORMAT="json",
    )
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "ready 1" and entry["request_id"] == "-"


def test_unknown_log_format_is_a_clear_error():
    result = _run("import django; django.setup()", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr


def test_sentry_is_off_by_default():
    result = _run(
        "import django; django.setup(); from django.conf import settings; "
        "import sys; print(repr(settings.SENTRY_DSN), 'sentry_sdk' in sys.modules)"
    )
    assert result.stdout.split() == ["''", "False"], result.stderr


def test_sentry_dsn_without_the_package_warns_and_carries_on(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # as if not installed
    with pytest.warns(RuntimeWarning, match="sentry-sdk is not installed"):
        assert init_sentry("https://key@sentry.example/1", environment="test") is False


def test_sentry_is_started_without_personal_data_and_tags_the_request_id(monkeypatch):
    calls = {}
    fake = types.SimpleNamespace(init=lambda **kwargs: calls.update(kwargs))
    monkeypatch.setitem(sys.modules, "sentry_sdk", fake)
    assert init_sentry("https://key@sentry.example/1", environment="staging") is True
    assert calls["dsn"] == "https://key@sentry.example/1"
    assert calls["environment"] == "staging"
    assert calls["send_default_pii"] is False
    token = current_request_id.set("req-sentry-01")
    try:
        event = calls["before_send"]({}, {})
    finally:
        current_request_id.reset(token)
    assert event["tags"]["request_id"] == "req-sentry-01"

"""A real server process (gunicorn) on the test database, and a small HTTP client for it.

Fault tests start the server with parts of its environment pointing at a closed port (the
cache, the broker), as production would see them when Redis goes away, and talk to it over
HTTP like a browser without JavaScript: cookies, the CSRF token, forms and uploads.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

from django.conf import settings

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


def database_url() -> str:
    """The test database (pytest-django's NAME while the test runs) as a DATABASE_URL."""
    db = settings.DATABASES["default"]
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`gunicorn config.wsgi` with one worker, production settings but plain HTTP."""

    def __init__(self, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HUB_TESTING": "1",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url(),
            "DB_CONN_MAX_AGE": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            **env,
        }
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.log_path = log_path
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped:\n{self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """Cookies, CSRF and forms over plain HTTP (what a browser without JavaScript sends)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.jar), _NoRedirects())

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def set_cookie(self, name: str, value: str) -> None:
        from http.cookiejar import Cookie

        self.jar.set_cookie(
            Cookie(
                0,
                name,
                value,
                None,
                False,
                "127.0.0.1",
                False,
                False,
                "/",
                True,
                False,
                None,
                False,
                None,
                None,
                {},
            )
        )

    def get(self, path: str) -> Answer:
        return self._send(Request(self.base + path))  # noqa: S310 - our http URL

    def post(self, path: str, fields: dict[str, str], files: dict | None = None) -> Answer:
        if not self.cookie("csrftoken"):
            self.get(path)  # the form's page sets the CSRF cookie
        fields = {"csrfmiddlewaretoken": self.cookie("csrftoken"), **fields}
        headers = {"Referer": self.base + path}
        if files:
            body, content_type = _multipart(fields, files)
        else:
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        headers["Content-Type"] = content_type
        request = Request(self.base + path, data=body, headers=headers, method="POST")  # noqa: S310
        return self._send(request)

    def _send(self, request: Request) -> Answer:
        try:
            response = self.opener.open(request, timeout=30)  # noqa: S310 - our http URL
        except HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            response = error
        except URLError as error:
            raise AssertionError(f"no answer from the server: {error}") from error
        with response:
            body = response.read().decode("utf-8", errors="replace")
            headers = {key.lower(): value for key, value in response.headers.items()}
            return Answer(response.status, headers, body)


def _multipart(fields: dict[str, str], files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    for name, (filename, content, content_type) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def is_error_page_with_reference(answer: Answer) -> bool:
    """The app's own error page (not gunicorn's bare one), with the request's reference."""
    reference = re.search(r"<code data-request-id>([^<]+)</code>", answer.body)
    return bool(reference) and reference.group(1) == answer.headers.get("x-request-id")

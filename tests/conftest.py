"""Shared fixtures: personas, real services and the browser.

Personas follow one rule: `alice` owns data, `bob` works at the same partner and shares it,
`charlie` belongs to another partner and must see none of it.
"""

import os
import shutil
import uuid

import pytest
from django.conf import settings

from tests.factories import PartnerFactory, StaffFactory, UserFactory
from tests.worker_helpers import Worker, forget_queue

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the
# same tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _required(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def missing(requirement: str, why: str) -> None:
    """Skip locally; fail in CI, where REQUIRE_* says the part must be there."""
    if _required(requirement):
        pytest.fail(f"{why} ({requirement}=1 requires it)")
    pytest.skip(why)  # only when REQUIRE_* is off; CI turns every REQUIRE_* switch on


@pytest.fixture(autouse=True)
def _eager_celery_and_clean_cache():
    """Tests run tasks in-process unless they start a real worker (see tests/integration)."""
    from django.core.cache import cache

    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Personas are created with a password in almost every test; the real hasher is slow on
    # purpose and what it protects is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """`with on_commit(): ...` runs the after-commit work (e-mails, tasks) of the block."""

    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Acme Resellers", tier="premium")


@pytest.fixture
def other_partner(db):
    return PartnerFactory(name="Globex Partners")


@pytest.fixture
def alice(partner):
    return UserFactory(email="alice@acme.example", full_name="Alice Owner", partner=partner)


@pytest.fixture
def bob(partner):
    return UserFactory(email="bob@acme.example", full_name="Bob Colleague", partner=partner)


@pytest.fixture
def charlie(other_partner):
    return UserFactory(
        email="charlie@globex.example", full_name="Charlie Other", partner=other_partner
    )


@pytest.fixture
def staff(db):
    return StaffFactory(email="support@wellhub.example", is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    """A staff member signed in with a verified second factor (as the admin requires)."""
    from django_otp.plugins.otp_static.models import StaticDevice

    device = StaticDevice.objects.create(user=staff, name="backup")
    client.force_login(staff)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def charlie_client(client, charlie):
    client.force_login(charlie)
    return client


@pytest.fixture
def uses_real_services():
    """PostgreSQL and Redis must be configured (CI sets REQUIRE_SERVICES=1)."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        missing("REQUIRE_SERVICES", "DATABASE_URL does not point at PostgreSQL")
    if not settings.REDIS_URL:
        missing("REQUIRE_SERVICES", "REDIS_URL is not set")


@pytest.fixture(scope="session")
def _playwright_browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        missing("REQUIRE_BROWSER", f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("REQUIRE_BROWSER", "Playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(_playwright_browser, live_server, request):
    """A fresh browser page; its last screen is saved under test-artifacts/."""
    context = _playwright_browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    browser_page = context.new_page()
    yield browser_page
    artifacts = os.path.join(settings.BASE_DIR, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    try:
        browser_page.screenshot(
            path=os.path.join(artifacts, f"{request.node.name}.png"), full_page=True
        )
    finally:
        context.close()


# --- A real Celery worker (tests/worker_helpers.py) ----------------------------------------


@pytest.fixture
def worker_queue(uses_real_services):
    """Send this test's tasks to a queue of its own, for real (not eagerly)."""
    from config.celery import app

    queue = f"worker-test-{uuid.uuid4().hex[:10]}"
    routes = app.conf.task_routes
    app.conf.task_always_eager = False
    ours = ("bulk.*", "eligibility.*", "core.*")
    app.conf.update(task_routes={pattern: {"queue": queue} for pattern in ours})
    try:
        yield queue
    finally:
        app.conf.update(task_routes=routes)
        app.conf.task_always_eager = True
        forget_queue(queue)


@pytest.fixture
def workers(worker_queue, tmp_path):
    started: list[Worker] = []
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()

    def start(pool: str = "solo", **env) -> Worker:
        worker = Worker(worker_queue, mail_dir, tmp_path / "worker.log", pool=pool, **env)
        started.append(worker)
        return worker

    start.mail_dir = mail_dir
    start.log = tmp_path / "worker.log"
    try:
        yield start
    finally:
        for worker in started:
            worker.stop()

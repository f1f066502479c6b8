"""Error pages carry the request reference; the X-Request-ID header and the logs agree."""

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from config import urls as hub_urls
from core.logging import RequestIDLogFilter

logger = logging.getLogger("hub.tests")


def boom(request):
    logger.error("about to fail")
    raise RuntimeError("kaboom")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("tampered")


# A test-only urlconf: the project's URLs plus views that fail on purpose.
urlpatterns = [
    path("test-errors/500/", boom),
    path("test-errors/403/", forbidden),
    path("test-errors/400/", suspicious),
    *hub_urls.urlpatterns,
]
handler400 = hub_urls.handler400
handler403 = hub_urls.handler403
handler404 = hub_urls.handler404
handler500 = hub_urls.handler500

errors_urlconf = pytest.mark.urls(__name__)


def reference_on_page(body: str) -> str:
    match = re.search(r"<code data-request-id>([^<]+)</code>", body)
    assert match, body
    return match.group(1)


def report_link(body: str) -> dict:
    match = re.search(r'href="(/support/report/\?[^"]+)"', body)
    assert match, body
    return parse_qs(urlsplit(match.group(1).replace("&amp;", "&")).query)


def assert_reference_everywhere(response, status: int, page: str):
    assert response.status_code == status
    body = response.content.decode()
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert reference_on_page(body) == request_id
    assert f'data-error="{status}"' in body
    link = report_link(body)
    assert link["request_id"] == [request_id]
    assert link["page"] == [page]
    assert body.count("<h1") == 1


def test_404_for_a_missing_url(client, db):
    response = client.get("/no/such/page/")
    assert_reference_everywhere(response, 404, "/no/such/page/")


@errors_urlconf
def test_500_when_a_view_raises(client, db):
    client.raise_request_exception = False
    response = client.get("/test-errors/500/")
    assert_reference_everywhere(response, 500, "/test-errors/500/")
    assert "kaboom" not in response.content.decode()


@errors_urlconf
def test_403_when_permission_is_denied(client, db):
    assert_reference_everywhere(client.get("/test-errors/403/"), 403, "/test-errors/403/")


@errors_urlconf
def test_400_for_a_suspicious_request(client, db):
    assert_reference_everywhere(client.get("/test-errors/400/"), 400, "/test-errors/400/")


def test_error_page_link_opens_the_report_form_with_the_reference(client, db):
    missing = client.get("/gone/")
    link = re.search(r'href="(/support/report/\?[^"]+)"', missing.content.decode()).group(1)
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert f'value="{missing["X-Request-ID"]}"' in form
    assert 'name="page" value="/gone/"' in form


def test_well_formed_incoming_request_id_is_echoed(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-abc.123_XYZ")
    assert response["X-Request-ID"] == "proxy-abc.123_XYZ"


def test_incoming_request_id_shows_on_the_error_page(client, db):
    response = client.get("/missing/", HTTP_X_REQUEST_ID="edge-0000-1111")
    assert reference_on_page(response.content.decode()) == "edge-0000-1111"


@pytest.mark.parametrize(
    "incoming", ["short", "x" * 65, "has space here", "<script>x</script>", "semi;colon;value", ""]
)
def test_malformed_incoming_request_id_is_replaced(client, db, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_every_request_gets_its_own_id(client, db):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


@errors_urlconf
def test_log_records_carry_the_request_id(client, db, caplog):
    caplog.handler.addFilter(RequestIDLogFilter())
    client.raise_request_exception = False
    with caplog.at_level(logging.INFO):
        response = client.get("/test-errors/500/")
    request_id = response["X-Request-ID"]
    ours = [r for r in caplog.records if r.name == "hub.tests"]
    assert [r.request_id for r in ours] == [request_id]
    # Django's own record of the failure carries it too.
    failures = [r for r in caplog.records if r.name == "django.request"]
    assert failures and all(r.request_id == request_id for r in failures)


def test_log_records_outside_a_request_say_so(caplog):
    caplog.handler.addFilter(RequestIDLogFilter())
    with caplog.at_level(logging.INFO):
        logger.info("background work")
    assert caplog.records[-1].request_id == "-"

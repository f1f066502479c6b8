"""`manage.py seed_demo`: the quickstart's data, seeded app by app, and what it promises."""

import io
import re

from django.core.management import call_command

from accounts.models import User
from eligibility.models import Company
from eligibility.services import check_company
from requests_app.models import PartnerRequest


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def printed(output: str, what: str) -> list[tuple[str, str]]:
    """The (subject, promise) pairs of the lines that start with ``what``."""
    return re.findall(rf"^  {what} ([^:]+): (.+)$", output, re.M)


def test_running_it_twice_prints_the_same_and_adds_nothing(db):
    first = seed_demo()
    counts = (User.objects.count(), Company.objects.count(), PartnerRequest.objects.count())
    assert seed_demo() == first
    assert (User.objects.count(), Company.objects.count(), PartnerRequest.objects.count()) == (
        counts
    )
    assert first.startswith("Demo data ready. Sign in at ")


def test_every_printed_sign_in_user_exists_and_every_request_too(db):
    output = seed_demo()
    emails = re.findall(r"^  (\S+@\S+) \(", output, re.M)
    assert "ana@acme.example" in emails
    assert set(User.objects.filter(email__in=emails).values_list("email", flat=True)) == set(emails)
    references = [reference for reference, _ in printed(output, "Request")]
    assert len(references) == 3
    assert PartnerRequest.objects.filter(reference__in=references).count() == 3


def test_every_printed_tax_id_gives_its_promised_answer_once_all_apps_have_seeded(db):
    output = seed_demo()
    ana = User.objects.get(email="ana@acme.example")
    tries = printed(output, "Check")
    assert len(tries) >= 4
    for typed, promise in tries:
        country, tax_id = typed.split(" ", 1)
        decision = check_company(user=ana, country=country, raw_tax_id=tax_id)
        assert decision.result == promise.split(" ")[0], (typed, promise, decision.reason)

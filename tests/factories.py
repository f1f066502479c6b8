"""Test data factories: one per model, each building a row the way the app would leave it.

Tax IDs are valid for their country (the app's own validator says so), and distinct per call:
`CompanyFactory(country="US")` gets a fresh valid EIN, `CompanyFactory()` a fresh CNPJ root.
"""

import itertools
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.conf import settings
from django.utils import timezone

from accounts.models import Partner, User, UserSession
from accounts.sessions import SessionStore
from bulk.csv import TEMPLATE_COLUMNS
from bulk.models import BulkCheckJob, BulkReportChunk
from core.models import OutboxMessage
from eligibility.models import (
    Company,
    EligibilityCheck,
    EligibilityResult,
    Product,
    RegistryImport,
    Subscription,
)
from eligibility.taxid import protection_key, validate_tax_id
from requests_app.models import (
    PartnerRequest,
    RequestEvent,
    RequestKind,
    RequestMessage,
    RequestStatus,
    format_reference,
)
from support.models import ProblemReport

PASSWORD = "correct-horse-battery"

# --- Tax IDs ----------------------------------------------------------------------------------

_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Per country: the stem for sequence number n, how many check characters follow, and which.
# The stems stay clear of the fixed Tax IDs the tests write out (CNPJ roots from 80000000).
_TAX_ID_STEMS = {
    "AR": (lambda n: f"30{n % 10**8:08d}", 1, _DIGITS),
    "BR": (lambda n: f"{80_000_000 + n % 10**7:08d}0001", 2, _DIGITS),
    "CL": (lambda n: f"{76_000_000 + n % 10**7}", 1, _DIGITS + "K"),
    "CO": (lambda n: f"{900_000_000 + n % 10**8}", 1, _DIGITS),
    "DE": (lambda n: f"{10_000_000 + n % (9 * 10**7):08d}", 1, _DIGITS),
    "ES": (lambda n: f"B{n % 10**7:07d}", 1, _DIGITS),
    "GB": (lambda n: f"{1_000_000 + n % (9 * 10**6):07d}", 2, _DIGITS),
    "IE": (lambda n: f"{n % 10**7:07d}", 1, _LETTERS),
    "IT": (lambda n: f"{1 + n % (10**7 - 1):07d}001", 1, _DIGITS),
    "MX": (
        lambda n: f"{_LETTERS[n // 676 % 26]}{_LETTERS[n // 26 % 26]}{_LETTERS[n % 26]}010203A",
        2,
        _DIGITS,
    ),
    "PE": (lambda n: f"20{n % 10**8:08d}", 1, _DIGITS),
    "PT": (lambda n: f"5{n % 10**7:07d}", 1, _DIGITS),
    "US": (lambda n: f"12{n % 10**7:07d}", 0, ""),
}


def valid_tax_id(country: str, n: int) -> str:
    """The n-th valid compact company Tax ID of ``country`` (the check characters are searched,
    so the app's validator is the only judge of validity)."""
    stem_for, check_length, alphabet = _TAX_ID_STEMS[country]
    stem = stem_for(n)
    for check in itertools.product(alphabet, repeat=check_length):
        candidate = stem + "".join(check)
        result = validate_tax_id(country, candidate)
        if result.is_valid and result.compact == candidate:
            return candidate
    raise ValueError(f"no valid {country} Tax ID starts with {stem}")


# --- Accounts ---------------------------------------------------------------------------------


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    tier = Partner.Tier.STANDARD
    allows_reseller = True
    allows_referral = True
    home_country = "BR"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@partner.example")
    full_name = factory.Faker("name")
    partner = factory.SubFactory(PartnerFactory)
    login_mode = User.LoginMode.PASSWORD
    # Test users read English in UTC unless a test says otherwise (real users get their
    # partner's country's language and zone at invitation).
    language = "en"
    time_zone = "UTC"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        if self.login_mode == User.LoginMode.PASSWORD:
            self.set_password(extracted or PASSWORD)
        else:
            self.set_unusable_password()
        if create:
            self.save()
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class StaffFactory(UserFactory):
    partner = None
    is_staff = True
    email = factory.Sequence(lambda n: f"staff{n}@wellhub.example")


def _user_of(partner_path: str = "..partner"):
    """A user working at the row's partner (``..partner`` seen from the SubFactory)."""
    return factory.SubFactory(UserFactory, partner=factory.SelfAttribute(partner_path))


class UserSessionFactory(factory.django.DjangoModelFactory):
    """A signed-in session of a user, stored as the session engine stores it."""

    class Meta:
        model = UserSession

    user = factory.SubFactory(UserFactory)
    session_key = factory.Sequence(lambda n: f"session{n:032d}")
    expire_date = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=12))

    @factory.lazy_attribute
    def session_data(self):
        return SessionStore().encode(
            {
                "_auth_user_id": str(self.user.pk),
                "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                "_auth_user_hash": self.user.get_session_auth_hash(),
            }
        )


# --- Registry ---------------------------------------------------------------------------------


class CompanyFactory(factory.django.DjangoModelFactory):
    """A prospect in Brazil by default; ``client=True`` or ``blocked=True`` for the others."""

    class Meta:
        model = Company

    country = "BR"
    tax_id = factory.LazyAttributeSequence(lambda company, n: valid_tax_id(company.country, n))
    legal_name = factory.Sequence(lambda n: f"Company {n} Ltda")
    status = Company.Status.PROSPECT

    class Params:
        client = factory.Trait(status=Company.Status.CLIENT)
        blocked = factory.Trait(status=Company.Status.BLOCKED)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"product-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    is_active = True


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A client's product, paid directly unless ``paid_by_partner`` is given."""

    class Meta:
        model = Subscription

    company = factory.SubFactory(CompanyFactory, client=True)
    product = factory.SubFactory(ProductFactory)
    paid_by_partner = None


class RegistryImportFactory(factory.django.DjangoModelFactory):
    """A registry file uploaded in the admin, waiting for the worker: one prospect to create."""

    class Meta:
        model = RegistryImport

    file = factory.django.FileField(
        filename="registry.csv",
        data=b"country,tax_id,legal_name,status,products,paid_by\r\n"
        b"BR,11222333000181,Uploaded Ltda,prospect,,\r\n",
    )
    filename = "registry.csv"
    size = factory.LazyAttribute(lambda job: job.file.size)
    created_by = factory.SubFactory("tests.factories.StaffFactory")


class EligibilityCheckFactory(factory.django.DjangoModelFactory):
    """A single check logged for a user (and the user's partner), answered "available"."""

    class Meta:
        model = EligibilityCheck

    user = factory.SubFactory(UserFactory)
    partner = factory.SelfAttribute("user.partner")
    source = EligibilityCheck.Source.SINGLE
    country = "BR"
    tax_id = factory.LazyAttributeSequence(lambda check, n: valid_tax_id(check.country, n))
    raw_input = factory.SelfAttribute("tax_id")
    result = EligibilityResult.AVAILABLE
    reason = "new_company"

    class Params:
        invalid = factory.Trait(
            result=EligibilityResult.INVALID, tax_id="", raw_input="123", reason="invalid_length"
        )


# --- Requests ---------------------------------------------------------------------------------


class PartnerRequestFactory(factory.django.DjangoModelFactory):
    """A submitted launch as the services leave it: reference, protection and first event.

    Its creator works at its partner (a new user unless ``created_by`` is given).
    Traits: ``launch`` (the default), ``upsell`` and ``takeover`` (for a client, with an
    answer date). Pass ``reference="RH-…"`` to choose the reference, ``products=[…]`` for a
    follow-up's products, ``history=False`` to leave the status history empty.
    """

    class Meta:
        model = PartnerRequest
        skip_postgeneration_save = True

    kind = RequestKind.LAUNCH
    status = RequestStatus.SUBMITTED
    partner = factory.SubFactory(PartnerFactory)
    created_by = _user_of()
    company = factory.SubFactory(CompanyFactory)
    protection_key = factory.LazyAttribute(
        lambda request: protection_key(request.company.country, request.company.tax_id)
    )
    company_name = factory.SelfAttribute("company.legal_name")
    business_model = "reseller"
    protected_until = factory.LazyFunction(
        lambda: timezone.now() + timedelta(days=settings.PROTECTION_DAYS)
    )

    class Params:
        launch = factory.Trait(kind=RequestKind.LAUNCH)
        upsell = factory.Trait(
            kind=RequestKind.UPSELL,
            company=factory.SubFactory(CompanyFactory, client=True),
            protected_until=None,
        )
        takeover = factory.Trait(
            kind=RequestKind.TAKEOVER,
            company=factory.SubFactory(CompanyFactory, client=True),
            protected_until=None,
            # Five days ahead; the real date counts business days (tests of it use the service).
            due_date=factory.LazyFunction(lambda: (timezone.now() + timedelta(days=5)).date()),
        )

    @factory.post_generation
    def reference(self, create, extracted, **kwargs):
        """Set after the insert, from the primary key, as the services do."""
        self.reference = extracted or format_reference(self.pk)
        if create:
            self.save(update_fields=["reference"])

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        """``products=[...]``: what an upsell or takeover asks for."""
        if create and extracted:
            self.products.set(extracted)

    @factory.post_generation
    def history(self, create, extracted, **kwargs):
        """The first status change, as the services record it (``history=False``: none)."""
        if create and extracted is not False:
            RequestEventFactory(request=self, actor=self.created_by, to_status=self.status)


class RequestEventFactory(factory.django.DjangoModelFactory):
    """One status change; by default the request's creation ("" → its status)."""

    class Meta:
        model = RequestEvent

    request = factory.SubFactory(PartnerRequestFactory, history=False)
    actor = None
    from_status = ""
    to_status = factory.SelfAttribute("request.status")
    note = ""


class RequestMessageFactory(factory.django.DjangoModelFactory):
    """A partner's message on a request (``from_wellhub=True``: Wellhub's answer)."""

    class Meta:
        model = RequestMessage

    request = factory.SubFactory(PartnerRequestFactory)
    author = factory.SelfAttribute("request.created_by")
    from_wellhub = False
    body = "Could we talk about this request?"


# --- Bulk checks ------------------------------------------------------------------------------


def _bulk_line(tax_id: str, *report: str) -> str:
    cells = {"country": "BR", "tax_id": tax_id}
    return ",".join([cells.get(column, "") for column in TEMPLATE_COLUMNS] + list(report))


def bulk_input(*tax_ids: str) -> bytes:
    """A CSV upload with the template header and one Brazilian row per Tax ID."""
    lines = [",".join(TEMPLATE_COLUMNS)] + [_bulk_line(tax_id) for tax_id in tax_ids]
    return "".join(f"{line}\r\n" for line in lines).encode()


class BulkCheckJobFactory(factory.django.DjangoModelFactory):
    """A queued check-only job of one valid row, uploaded by a user of its partner."""

    class Meta:
        model = BulkCheckJob

    partner = factory.SubFactory(PartnerFactory)
    created_by = _user_of()
    mode = BulkCheckJob.Mode.CHECK
    status = BulkCheckJob.Status.QUEUED
    filename = "companies.csv"
    input_data = factory.LazyFunction(lambda: bulk_input(valid_tax_id("BR", 0)))
    encoding = "utf-8"
    delimiter = ","
    total_rows = 1
    counts = factory.LazyFunction(dict)


class BulkReportChunkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BulkReportChunk

    job = factory.SubFactory(BulkCheckJobFactory)
    first_line = 2
    row_count = 1
    data = factory.LazyFunction(
        lambda: f"{_bulk_line(valid_tax_id('BR', 0), 'available', '', '')}\r\n".encode()
    )


# --- Outbox -----------------------------------------------------------------------------------


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """An e-mail recorded by a use case and not published yet (the broker was away)."""

    class Meta:
        model = OutboxMessage
        skip_postgeneration_save = True

    task = "core.send_email"
    payload = factory.LazyFunction(
        lambda: {"to": ["someone@example.com"], "subject": "Hi", "text": "Hi", "html": "<p>Hi</p>"}
    )

    @factory.post_generation
    def addressed(self, create, extracted, **kwargs):
        """The e-mail task is told which row to send, as core.outbox.enqueue does."""
        self.kwargs = {"outbox_id": self.pk}
        if create:
            self.save(update_fields=["kwargs"])


# --- Support ----------------------------------------------------------------------------------


class ProblemReportFactory(factory.django.DjangoModelFactory):
    """An open report from a signed-in partner user; ``anonymous=True`` for a visitor's."""

    class Meta:
        model = ProblemReport

    user = factory.SubFactory(UserFactory)
    partner = factory.SelfAttribute("user.partner")
    email = factory.SelfAttribute("user.email")
    description = "The check page does not load."
    page = "/eligibility/check/"
    request_id = factory.Sequence(lambda n: f"{n:032x}")
    user_agent = "Mozilla/5.0"
    status = ProblemReport.Status.OPEN

    class Params:
        anonymous = factory.Trait(user=None, partner=None, email="visitor@example.com")

"""Demo products and companies for the quickstart (seed_demo): one Tax ID per kind of answer."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import BusinessModel, Partner
from eligibility.models import Company, Product, Subscription
from eligibility.taxid import format_tax_id, validate_tax_id

PRODUCTS = [
    ("wellhub-standard", "Wellhub Standard"),
    ("family-members", "Family Members"),
    ("wellhub-plus", "Wellhub+"),
    ("global-digital", "Global Digital plan"),
]
ACME = "Acme Resellers"  # created by the accounts demo

# Not in the registry at all.
NEW_COMPANY = ("BR", "11222333000181")
# A prospect kept free for the requests demo, which opens another partner's launch on it.
PROTECTED_DEMO_COMPANY = ("BR", "77420519000153")


@dataclass(frozen=True)
class DemoCompany:
    country: str
    tax_id: str
    legal_name: str
    status: str
    products: tuple[str, ...] = ()
    paid_by: str = ""  # "" = the client pays directly, else a partner's name


PAID_DIRECTLY = DemoCompany(
    "BR", "45723174000110", "Academia Paulista Ltda", "client", ("wellhub-standard",)
)
PAID_BY_ACME = DemoCompany(
    "BR",
    "28391765000119",
    "Construtora Horizonte S.A.",
    "client",
    ("wellhub-standard", "family-members"),
    paid_by=ACME,
)
HEAD_OFFICE = DemoCompany(
    "BR", "61350842000168", "Rede Bem Estar Farmácias S.A.", "client", ("wellhub-plus",)
)
MEXICAN_CLIENT = DemoCompany(
    "MX", "GFA010203CX4", "Grupo Ferretero Azteca S.A. de C.V.", "client", ("wellhub-standard",)
)
BLOCKED = DemoCompany("BR", "90246183000112", "Mineradora Serra Alta Ltda", "blocked")
PROSPECT = DemoCompany("BR", "35068427000106", "Logística Rio Claro Ltda", "prospect")
COMPANIES = [
    PAID_DIRECTLY,
    PAID_BY_ACME,
    HEAD_OFFICE,
    MEXICAN_CLIENT,
    BLOCKED,
    PROSPECT,
    DemoCompany("MX", "TEC950621AB4", "Tecnologías del Centro S.A. de C.V.", "prospect"),
    DemoCompany("BR", PROTECTED_DEMO_COMPANY[1], "Hotel Praia Dourada Ltda", "prospect"),
]
# A branch (0007) of Rede Bem Estar: not in the registry, it gets its head office's answer.
BRANCH_OF_CLIENT = ("BR", "61350842000753")


def _shown(country: str, tax_id: str) -> str:
    return f"{country} {format_tax_id(country, tax_id)}"


def _seed_company(demo: DemoCompany, products: dict[str, Product]) -> None:
    validation = validate_tax_id(demo.country, demo.tax_id)
    if not validation.is_valid:
        raise ValueError(f"Demo company with an invalid Tax ID: {demo}")
    company, _ = Company.objects.update_or_create(
        country=validation.country,
        tax_id=validation.compact,
        defaults={"legal_name": demo.legal_name, "status": demo.status},
    )
    payer = Partner.objects.filter(name=demo.paid_by).first() if demo.paid_by else None
    for code in demo.products:
        Subscription.objects.update_or_create(
            company=company,
            product=products[code],
            defaults={
                "paid_by_partner": payer,
                "business_model": BusinessModel.RESELLER if payer else "",
            },
        )


def seed() -> list[tuple[str, str]]:
    """Create the demo products and companies (idempotent); return Tax IDs to try."""
    products = {}
    for code, name in PRODUCTS:
        products[code], _ = Product.objects.update_or_create(
            code=code, defaults={"name": name, "is_active": True}
        )
    for demo in COMPANIES:
        _seed_company(demo, products)
    tries = [
        (NEW_COMPANY, "available (new company)"),
        ((PROSPECT.country, PROSPECT.tax_id), "available (prospect in the registry)"),
        (
            (PAID_DIRECTLY.country, PAID_DIRECTLY.tax_id),
            "client paying directly (upsell, payment takeover)",
        ),
        ((PAID_BY_ACME.country, PAID_BY_ACME.tax_id), "client paid by Acme Resellers (upsell)"),
        (BRANCH_OF_CLIENT, "client (a branch of a client)"),
        (
            (MEXICAN_CLIENT.country, MEXICAN_CLIENT.tax_id),
            "client in Mexico (Beta Referrals, referral only, cannot take over payment)",
        ),
        ((BLOCKED.country, BLOCKED.tax_id), "unavailable (blocked)"),
        (
            PROTECTED_DEMO_COMPANY,
            "unavailable to Acme: another partner's open launch, made by the requests demo",
        ),
    ]
    lines = [(f"Check {_shown(*key)}", answer) for key, answer in tries]
    lines.append(("Check BR 11.222.333/0001-82", "invalid (wrong check digit)"))
    return lines

"""Demo partners and users for the quickstart (seed_demo)."""

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts.models import Partner, User
from accounts.roles import AE_GROUP, DEALDESK_GROUP, SUPPORT_GROUP

DEMO_PASSWORD = "hub-demo-2026"  # noqa: S105 - quickstart only, printed by seed_demo


def _user(email: str, **fields: Any) -> User:
    user, created = User.objects.get_or_create(email=email, defaults=fields)
    if created:
        if fields.get("login_mode", User.LoginMode.PASSWORD) == User.LoginMode.PASSWORD:
            user.set_password(DEMO_PASSWORD)
        else:
            user.set_unusable_password()
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def seed() -> list[tuple[str, str]]:
    """Create the demo accounts (idempotent); return (who, how to sign in) lines."""
    _user("admin@wellhub.example", full_name="Sam Support", is_staff=True, is_superuser=True)
    ae_group, _ = Group.objects.get_or_create(name=AE_GROUP)
    ae = _user("ae@wellhub.example", full_name="Alex Account", is_staff=True)
    ae.groups.add(ae_group)
    ae2 = _user("ae2@wellhub.example", full_name="Bruna Account", is_staff=True)
    ae2.groups.add(ae_group)
    support = _user("support@wellhub.example", full_name="Sofia Support", is_staff=True)
    support.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    dealdesk = _user("dealdesk@wellhub.example", full_name="Diego Dealdesk", is_staff=True)
    dealdesk.groups.add(Group.objects.get_or_create(name=DEALDESK_GROUP)[0])

    acme, _ = Partner.objects.get_or_create(
        name="Acme Resellers",
        defaults={
            "tier": Partner.Tier.PREMIUM,
            "allows_reseller": True,
            "allows_referral": True,
            "home_country": "BR",
            "designated_ae": ae,
        },
    )
    beta, _ = Partner.objects.get_or_create(
        name="Beta Referrals",
        defaults={
            "tier": Partner.Tier.STANDARD,
            "allows_reseller": False,
            "allows_referral": True,
            "home_country": "MX",
        },
    )
    _user("ana@acme.example", full_name="Ana Costa", partner=acme)
    _user("tom@acme.example", full_name="Tom Token", partner=acme, login_mode=User.LoginMode.TOKEN)
    _user("bea@beta.example", full_name="Bea Ruiz", partner=beta)
    return [
        ("admin@wellhub.example (staff, admin)", f"password {DEMO_PASSWORD}"),
        ("ae@wellhub.example (staff, Channel Partner AE)", f"password {DEMO_PASSWORD}"),
        ("support@wellhub.example (staff, Support)", f"password {DEMO_PASSWORD}"),
        ("dealdesk@wellhub.example (staff, Dealdesk)", f"password {DEMO_PASSWORD}"),
        (
            "ana@acme.example (Acme Resellers, premium, reseller+referral, BR)",
            f"password {DEMO_PASSWORD}",
        ),
        (
            "tom@acme.example (Acme Resellers)",
            "e-mailed code: /accounts/login/code/ (the code is printed in the server console)",
        ),
        (
            "bea@beta.example (Beta Referrals, standard, referral only, MX)",
            f"password {DEMO_PASSWORD}",
        ),
    ]

"""Account use cases: partners, invitations, inactivity, reactivation, blocking and pausing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Language, Partner, User
from accounts.sessions import end_sessions
from core.countries import SUPPORTED_COUNTRIES, default_language, default_time_zone
from core.emails import queue_email
from core.urls import absolute_url


def set_password_url(user: User) -> str:
    """A single-use link: the token dies once the password (hash) or last_login changes."""
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return absolute_url(path)


@transaction.atomic
def create_partner(
    *,
    name: str,
    tier: str = Partner.Tier.STANDARD,
    business_models: list[str],
    home_country: str,
    designated_ae_email: str = "",
) -> Partner:
    name = name.strip()
    errors: list[str] = []
    if not name:
        errors.append(_("The partner needs a name."))
    elif Partner.objects.filter(name__iexact=name).exists():
        errors.append(_("A partner named “%(name)s” already exists.") % {"name": name})
    if tier not in Partner.Tier.values:
        errors.append(_("Tier must be one of: %(tiers)s.") % {"tiers": ", ".join(Partner.Tier)})
    models = {m.strip().lower() for m in business_models if m.strip()}
    if not models or not models <= {"reseller", "referral"}:
        errors.append(_("Business models must be reseller, referral or both."))
    country = home_country.strip().upper()
    if country not in SUPPORTED_COUNTRIES:
        errors.append(_("“%(country)s” is not a supported country.") % {"country": home_country})
    ae = None
    if designated_ae_email:
        ae = User.objects.filter(email__iexact=designated_ae_email.strip(), is_staff=True).first()
        if ae is None:
            errors.append(
                _("No staff user with the e-mail “%(email)s”.") % {"email": designated_ae_email}
            )
    if errors:
        raise ValidationError(errors)
    return Partner.objects.create(
        name=name,
        tier=tier,
        allows_reseller="reseller" in models,
        allows_referral="referral" in models,
        home_country=country,
        designated_ae=ae,
    )


@transaction.atomic
def invite_user(
    *,
    email: str,
    partner: Partner | None,
    full_name: str = "",
    login_mode: str = User.LoginMode.PASSWORD,
    is_staff: bool = False,
    language: str = "",
    welcome: bool = True,
) -> User:
    """Create a user and send the welcome e-mail.

    The user speaks `language` (pt-br, es or en), by default the partner's country's, and sees
    times in the partner's country's zone.
    """
    email = email.strip().lower()
    try:
        validate_email(email)
        if len(email) > User._meta.get_field("email").max_length:  # type: ignore[operator]
            raise ValidationError("too long")
    except ValidationError as exc:
        raise ValidationError(
            _("“%(email)s” is not a valid e-mail address.") % {"email": email}
        ) from exc
    if login_mode not in User.LoginMode.values:
        raise ValidationError(_("Login mode must be password or token."))
    if partner is None and not is_staff:
        raise ValidationError(_("A partner user needs a partner."))
    if language and language not in Language.values:
        raise ValidationError(
            _("Language must be one of: %(languages)s.") % {"languages": ", ".join(Language)}
        )
    home_country = partner.home_country if partner is not None else ""
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            _("A user with the e-mail “%(email)s” already exists.") % {"email": email}
        )
    user = User.objects.create_user(
        email=email,
        full_name=full_name.strip(),
        partner=partner,
        login_mode=login_mode,
        is_staff=is_staff,
        language=language or (default_language(home_country) if partner else ""),
        time_zone=default_time_zone(home_country) if partner else "",
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if welcome:
        send_welcome(user)
    return user


def save_language(user: User, language: str) -> None:
    """Keep the language the user picked with the switcher on their account."""
    if language in Language.values and user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def send_welcome(user: User) -> None:
    """(Re)send the welcome e-mail; restarts the inactivity clock at the invitation."""
    user.invited_at = timezone.now()
    user.inactivity_warning_sent_at = None
    user.save(update_fields=["invited_at", "inactivity_warning_sent_at"])
    context = {
        "user": user,
        "partner_name": user.partner.name if user.partner else "",
        "token_mode": user.login_mode == User.LoginMode.TOKEN,
        "login_code_url": absolute_url(reverse("account_request_login_code")),
        "set_password_url": set_password_url(user)
        if user.login_mode == User.LoginMode.PASSWORD
        else "",
        "link_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    queue_email(
        "welcome",
        user.email,
        context,
        language=user.preferred_language,
        time_zone=user.preferred_time_zone,
    )


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _Clock(TypedDict):
        clock_start: datetime

    UserOnTheClock = WithAnnotations[User, _Clock]


@dataclass
class InactivityReport:
    deactivated: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)


def inactivity_clock() -> Greatest:
    """When a user's inactivity clock started: the latest of last sign-in, reactivation and
    invitation (the day they joined for whatever never happened). The one definition of it:
    selection, the guarded UPDATE and the warning's deadline all use it.
    """
    return Greatest(
        Coalesce("last_login", "date_joined"),
        Coalesce("reactivated_at", "date_joined"),
        Coalesce("invited_at", "date_joined"),
    )


def _partner_users_on_the_clock() -> QuerySet[UserOnTheClock]:
    """Active partner users (staff never run out) with their clock start as `clock_start`."""
    return (
        User.objects.filter(is_active=True, is_staff=False, is_superuser=False)
        .select_related("partner")
        .annotate(clock_start=inactivity_clock())
    )


def idle_partner_users(*, now: datetime, days: int) -> QuerySet[UserOnTheClock]:
    """Active partner users whose clock started `days` or more before `now`."""
    return _partner_users_on_the_clock().filter(clock_start__lte=now - timedelta(days=days))


def _due_a_warning(*, now: datetime, days: int) -> QuerySet[UserOnTheClock]:
    """Users in the last week before `days`, not yet warned since their clock started."""
    warning_days = max(days - settings.INACTIVITY_WARNING_DAYS, 0)
    return (
        _partner_users_on_the_clock()
        .filter(clock_start__lte=now - timedelta(days=warning_days))
        .filter(clock_start__gt=now - timedelta(days=days))
        .filter(
            Q(inactivity_warning_sent_at__isnull=True)
            | Q(inactivity_warning_sent_at__lt=F("clock_start"))
        )
    )


def deactivate_inactive_users(
    *, now: datetime | None = None, days: int | None = None, dry_run: bool = False
) -> InactivityReport:
    """Deactivate partner users idle for `days`; warn those a week away. Safe to re-run."""
    now = now or timezone.now()
    days = settings.INACTIVITY_DAYS if days is None else days
    if days < 1:
        raise ValidationError(_("Days must be a positive whole number."))
    idle = list(idle_partner_users(now=now, days=days).values_list("email", flat=True))
    warn_users = list(_due_a_warning(now=now, days=days).select_related("partner"))
    if dry_run:
        return InactivityReport(deactivated=idle, warned=[u.email for u in warn_users])
    with transaction.atomic():
        report = InactivityReport(deactivated=deactivate_idle_users(idle, now=now, days=days))
        for user in warn_users:
            if _claim_warning(user, now=now, days=days):
                report.warned.append(user.email)
    return report


def deactivate_idle_users(emails: Iterable[str], *, now: datetime, days: int) -> list[str]:
    """Deactivate those of `emails` who are still idle when the UPDATE runs; return them.

    The UPDATE itself checks the clock, so a user who signed in (or was reactivated, or
    deactivated by a concurrent run) since they were selected is left alone.
    """
    selected = list(emails)
    with transaction.atomic():
        updated = (
            idle_partner_users(now=now, days=days)
            .filter(email__in=selected)
            .update(
                is_active=False,
                deactivation_reason=User.DeactivationReason.INACTIVITY,
                deactivated_at=now,
            )
        )
        if updated == len(selected):
            deactivated = selected
        else:
            deactivated = list(
                User.objects.filter(
                    email__in=selected,
                    is_active=False,
                    deactivation_reason=User.DeactivationReason.INACTIVITY,
                    deactivated_at=now,
                ).values_list("email", flat=True)
            )
        # Their sessions end with the deactivation, so a reactivation never revives them.
        end_sessions(emails=deactivated)
        return deactivated


def _claim_warning(user: UserOnTheClock, *, now: datetime, days: int) -> bool:
    """Stamp and send the warning unless a sign-in or a concurrent run got there first."""
    claimed = (
        _due_a_warning(now=now, days=days).filter(pk=user.pk).update(inactivity_warning_sent_at=now)
    )
    if claimed:
        queue_email(
            "inactivity_warning",
            user.email,
            {
                "user": user,
                "deadline": user.clock_start + timedelta(days=days),
                "login_url": absolute_url(reverse("account_login")),
            },
            language=user.preferred_language,
            time_zone=user.preferred_time_zone,
        )
    return bool(claimed)


@transaction.atomic
def reactivate_user(*, user: User) -> User:
    user.is_active = True
    user.deactivation_reason = ""
    user.deactivated_at = None
    user.reactivated_at = timezone.now()
    user.inactivity_warning_sent_at = None
    user.save(
        update_fields=[
            "is_active",
            "deactivation_reason",
            "deactivated_at",
            "reactivated_at",
            "inactivity_warning_sent_at",
        ]
    )
    queue_email(
        "reactivated",
        user.email,
        {
            "user": user,
            "login_url": absolute_url(
                reverse(
                    "account_request_login_code"
                    if user.login_mode == User.LoginMode.TOKEN
                    else "account_login"
                )
            ),
            "days": settings.INACTIVITY_DAYS,
        },
        language=user.preferred_language,
        time_zone=user.preferred_time_zone,
    )
    return user


@transaction.atomic
def block_user(*, user: User) -> User:
    user.is_active = False
    user.deactivation_reason = User.DeactivationReason.BLOCKED
    user.deactivated_at = timezone.now()
    user.save(update_fields=["is_active", "deactivation_reason", "deactivated_at"])
    end_sessions(user=user)
    return user


def recently_deactivated_since(*, days: int) -> datetime:
    """The start of the day `days` days ago."""
    since = timezone.now() - timedelta(days=days)
    return since.replace(hour=0, minute=0, second=0, microsecond=0)


def recently_deactivated_users(*, days: int) -> QuerySet[User]:
    """Partner users deactivated (idle or blocked) in the last `days` days."""
    since = recently_deactivated_since(days=days)
    return User.objects.filter(is_active=False, is_staff=False, deactivated_at__gte=since)


@transaction.atomic
def set_partner_active(*, partner: Partner, active: bool) -> Partner:
    """Pause or resume a partner. Pausing ends every session of its users with it."""
    partner.is_active = active
    partner.save(update_fields=["is_active"])
    if not active:
        end_sessions(partner=partner)
    return partner

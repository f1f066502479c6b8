"""Partners (the organisations) and their users; e-mail is the username."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.countries import default_language, default_time_zone

if TYPE_CHECKING:
    pass


class Language(models.TextChoices):
    """The languages the hub speaks (settings.LANGUAGES), by their own names."""

    ENGLISH = "en", "English"
    PORTUGUESE = "pt-br", "Português (Brasil)"
    SPANISH = "es", "Español"


def validate_time_zone(value: str) -> None:
    if value and value not in available_timezones():
        raise ValidationError(
            _("“%(zone)s” is not a time zone (e.g. America/Sao_Paulo)."),
            params={"zone": value},
        )


class BusinessModel(models.TextChoices):
    RESELLER = "reseller", _("Reseller")
    REFERRAL = "referral", _("Referral")


class Partner(models.Model):
    class Tier(models.TextChoices):
        STANDARD = "standard", _("Standard")
        PREMIUM = "premium", _("Premium")

    name = models.CharField(_("name"), max_length=200, unique=True)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier, default=Tier.STANDARD)
    allows_reseller = models.BooleanField(_("reseller model allowed"), default=True)
    allows_referral = models.BooleanField(_("referral model allowed"), default=False)
    home_country = models.CharField(_("home country"), max_length=2, default="BR")
    designated_ae = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("designated AE"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="designated_partners",
        limit_choices_to={"is_staff": True},
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="partner_name_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(allows_reseller=True) | models.Q(allows_referral=True),
                name="partner_has_a_business_model",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_premium(self) -> bool:
        return self.tier == self.Tier.PREMIUM

    @property
    def business_models(self) -> list[str]:
        allowed: list[str] = []
        if self.allows_reseller:
            allowed.append(BusinessModel.RESELLER)
        if self.allows_referral:
            allowed.append(BusinessModel.REFERRAL)
        return allowed

    def business_model_choices(self) -> list[tuple[str, str]]:
        return [(value, str(BusinessModel(value).label)) for value in self.business_models]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)

    def _create_user(self, email: str, password: str | None, **extra_fields: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    class LoginMode(models.TextChoices):
        PASSWORD = "password", _("Password")
        TOKEN = "token", _("E-mailed token")

    class DeactivationReason(models.TextChoices):
        INACTIVITY = "inactivity", _("Inactivity")
        BLOCKED = "blocked", _("Blocked by support")

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    login_mode = models.CharField(
        _("login mode"), max_length=16, choices=LoginMode, default=LoginMode.PASSWORD
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    deactivation_reason = models.CharField(
        _("deactivation reason"), max_length=16, choices=DeactivationReason, blank=True
    )
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    reactivated_at = models.DateTimeField(_("reactivated at"), null=True, blank=True)
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True)
    inactivity_warning_sent_at = models.DateTimeField(
        _("inactivity warning sent at"), null=True, blank=True
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=Language,
        blank=True,
        help_text=_("Pages and e-mails are in this language. Empty: the partner's country's."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Times are shown in this zone. Empty: the partner's country's."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        indexes = [models.Index(fields=["is_active", "is_staff", "last_login"])]

    def __str__(self) -> str:
        # People are shown by name (in the admin's lists, histories and choices).
        return self.full_name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def active_partner(self) -> Partner | None:
        """The organisation this user acts for; None for staff and for a paused partner."""
        partner = self.partner
        return partner if partner is not None and partner.is_active else None

    @property
    def preferred_language(self) -> str:
        """The language of this user's pages and e-mails: chosen, else the partner's country's."""
        if self.language:
            return self.language
        if self.partner_id is not None and self.partner is not None:
            return default_language(self.partner.home_country)
        return settings.LANGUAGE_CODE

    @property
    def preferred_time_zone(self) -> str:
        """The zone this user's times are shown in: chosen, else the partner's country's."""
        if self.time_zone:
            return self.time_zone
        if self.partner_id is not None and self.partner is not None:
            return default_time_zone(self.partner.home_country)
        return settings.TIME_ZONE

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class UserSession(AbstractBaseSession):
    """A server-side session that knows whose it is (accounts.sessions fills `user`).

    Ending every session of a user, or of a partner's users, is then one DELETE in the same
    transaction as the deactivation, and nothing can bring them back.
    """

    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sessions",
    )

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

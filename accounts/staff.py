"""Staff accounts: a staff member in a role, e-mailed a link to choose a password."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import ROLE_OPTIONS
from accounts.services import invite_user, set_password_url
from core.emails import queue_email
from core.urls import absolute_url


@dataclass
class StaffOutcome:
    user: User
    created: bool
    role_added: bool


@transaction.atomic
def create_staff(*, email: str, role: str, full_name: str = "") -> StaffOutcome:
    """A staff member in `role` (support | ae | dealdesk), e-mailed a link to choose a password.

    For an existing staff member the role is added (no e-mail). A partner user is refused:
    a staff account has no partner.
    """
    group_name = ROLE_OPTIONS.get((role or "").strip().lower())
    if group_name is None:
        raise ValidationError(
            _("The role must be one of: %(roles)s.") % {"roles": ", ".join(ROLE_OPTIONS)}
        )
    group = Group.objects.filter(name=group_name).first()
    if group is None:
        raise ValidationError(
            _("The role group “%(group)s” is missing: run the migrations.") % {"group": group_name}
        )
    email = email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.partner_id is not None or not existing.is_staff:
            raise ValidationError(
                _("%(email)s is a partner user; a staff account cannot belong to a partner.")
                % {"email": email}
            )
        added = not existing.groups.filter(pk=group.pk).exists()
        existing.groups.add(group)
        return StaffOutcome(user=existing, created=False, role_added=added)
    user = invite_user(email=email, partner=None, full_name=full_name, is_staff=True, welcome=False)
    user.groups.add(group)
    queue_email(
        "staff_welcome",
        user.email,
        {
            "user": user,
            "roles": group.name,
            "set_password_url": set_password_url(user),
            "admin_url": absolute_url(reverse("admin:index")),
            "link_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        },
    )
    return StaffOutcome(user=user, created=True, role_added=True)

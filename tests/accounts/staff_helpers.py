"""Staff members in a role, signed in through the real admin login with their second factor."""

import re

from django.contrib.auth.models import Group
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import ROLE_OPTIONS
from tests.factories import PASSWORD, StaffFactory

LOGIN = "/admin/login/"


def make_staff(role=None, *, device=True, **fields):
    """A staff member in `role` (support | ae | dealdesk; None for a superuser)."""
    if role is None:
        fields.setdefault("is_superuser", True)
    user = StaffFactory(**fields)
    if role is not None:
        user.groups.add(Group.objects.get(name=ROLE_OPTIONS[role]))
    if device:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def code_for(user):
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return device, f"{totp(device.bin_key):06d}"


def sign_in(client, user):
    """Sign in at /admin/login/ with password and a TOTP code, as a person would."""
    device, code = code_for(user)
    response = client.post(
        LOGIN,
        {
            "username": user.email,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": code,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert client.get("/admin/").status_code == 200
    return client


def action_names(body):
    """The actions offered in a change list's action menu."""
    menu = re.search(r'<select name="action".*?</select>', body, re.S)
    return set(re.findall(r'<option value="([a-z_]+)"', menu.group(0))) if menu else set()

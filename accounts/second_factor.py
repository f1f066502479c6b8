"""Staff second factor: TOTP enrolment, backup codes, and checking a code at sign-in.

A staff member is enrolled once they hold a confirmed device: an authenticator app (TOTP),
or backup codes (the static device that `addstatictoken` also fills, for recovery).
"""

from __future__ import annotations

import base64
import io
from base64 import b32encode

import qrcode
from django.db import transaction
from django_otp import user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"

# The values of the sign-in form's `otp_device` choice (a device's persistent ID also works).
APP, BACKUP = "totp", "static"


def is_enrolled(user: User) -> bool:
    return bool(user_has_device(user, confirmed=True))


def pending_app_device(user: User) -> TOTPDevice:
    """The authenticator app being set up (kept across page loads until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The base32 secret people type into an authenticator app."""
    return b32encode(device.bin_key).decode("ascii")


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// address as a PNG QR code in a data: URI (the CSP allows it)."""
    image = qrcode.make(device.config_url, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@transaction.atomic
def confirm_app_device(device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the app with its first code; return fresh backup codes, or None if wrong.

    The backup codes replace any earlier ones; they are shown once and never again.
    """
    token = (token or "").strip().replace(" ", "")
    if not token.isdigit() or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return new_backup_codes(device.user)


def new_backup_codes(user: User) -> list[str]:
    backup = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if backup is None:
        backup = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME)
    backup.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    return codes


def _candidates(user: User, choice: str, token: str) -> list[Device]:
    """The user's confirmed devices the code may belong to, by the chosen kind."""
    if choice not in ("", APP, BACKUP):
        device = Device.from_persistent_id(choice, for_verify=True)
        return [device] if device is not None and device.user_id == user.pk else []
    if choice == "":  # not chosen: six digits come from the app, anything else is a backup code
        choice = APP if token.isdigit() and len(token) == 6 else BACKUP
    model = TOTPDevice if choice == APP else StaticDevice
    return list(model.objects.filter(user=user, confirmed=True).order_by("pk"))


@transaction.atomic  # django-otp locks the device while it checks a code
def verify_code(user: User, *, choice: str, token: str) -> Device | None:
    """The device that accepts `token` (a backup code is used up), or None.

    Devices slow down after failed tries (django-otp's throttling); a slowed device simply
    does not accept the code, so the answer never says more than "not right".
    """
    token = (token or "").strip().replace(" ", "")
    if not token:
        return None
    for device in _candidates(user, choice, token):
        allowed, _ = device.verify_is_allowed()
        if allowed and device.verify_token(token):
            return device
    return None


def has_app_device(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())

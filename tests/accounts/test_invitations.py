"""Welcome e-mails, invite_user and create_partner."""

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Partner, User
from tests.factories import StaffFactory


def test_invite_password_user_sends_a_single_use_set_password_link(
    partner, client, on_commit, mailoutbox
):
    with on_commit():
        call_command(
            "invite_user",
            "New@Acme.example",
            "--partner",
            "acme resellers",
            "--name",
            "Nina New",
            "--language",
            "en",
        )
    user = User.objects.get(email="new@acme.example")
    assert user.partner == partner and user.full_name == "Nina New"
    assert not user.has_usable_password()
    (mail,) = mailoutbox
    assert mail.subject == "[Reseller Hub] Welcome to Reseller Hub"
    assert "Acme Resellers" in mail.body
    assert mail.alternatives and "Choose your password" in mail.alternatives[0][0]
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.body).group(1)
    response = client.get(path, follow=True)
    form_path = response.redirect_chain[-1][0]
    client.post(form_path, {"password1": "my-own-secret-99", "password2": "my-own-secret-99"})
    user.refresh_from_db()
    assert user.check_password("my-own-secret-99")
    # The link was single-use: the second visit shows the bad-token page.
    again = client.get(path, follow=True)
    assert "password1" not in again.content.decode()


def test_invite_token_user_explains_code_sign_in(partner, on_commit, mailoutbox):
    with on_commit():
        call_command(
            "invite_user",
            "tok@acme.example",
            "--partner",
            "Acme Resellers",
            "--login-mode",
            "token",
        )
    (mail,) = mailoutbox
    assert "/accounts/login/code/" in mail.body
    assert "/accounts/password/reset/key/" not in mail.body
    assert User.objects.get(email="tok@acme.example").login_mode == "token"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x@y.example", "--partner", "Nobody Inc"], "No partner"),
        (["not-an-email", "--partner", "Acme Resellers"], "not a valid e-mail"),
        (["", "--partner", "Acme Resellers"], "not a valid e-mail"),
        (["a@b.example", "--partner", "Acme Resellers", "--login-mode", "magic"], "Login mode"),
        (["alice@acme.example", "--partner", "Acme Resellers"], "already exists"),
    ],
)
def test_invite_user_rejects_bad_arguments_and_writes_nothing(alice, mailoutbox, args, message):
    before = User.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("invite_user", *args)
    assert User.objects.count() == before
    assert mailoutbox == []


def test_create_partner_command(db, capsys):
    ae = StaffFactory(email="ae@wellhub.example")
    call_command(
        "create_partner",
        "Initech",
        "--tier",
        "premium",
        "--models",
        "reseller,referral",
        "--country",
        "mx",
        "--ae",
        "AE@wellhub.example",
    )
    partner = Partner.objects.get(name="Initech")
    assert partner.is_premium and partner.home_country == "MX"
    assert partner.business_models == ["reseller", "referral"] and partner.designated_ae == ae
    assert "Created partner Initech" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Acme Resellers"], "already exists"),
        (["ACME RESELLERS"], "already exists"),
        (["  "], "needs a name"),
        (["New One", "--tier", "gold"], "Tier"),
        (["New One", "--models", "franchise"], "Business models"),
        (["New One", "--models", ""], "Business models"),
        (["New One", "--country", "ZZ"], "not a supported country"),
        (["New One", "--ae", "nobody@wellhub.example"], "No staff user"),
    ],
)
def test_create_partner_rejects_bad_arguments_and_writes_nothing(partner, args, message):
    before = Partner.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_partner", *args)
    assert Partner.objects.count() == before


def test_create_partner_refuses_a_partner_user_as_ae(partner, alice):
    with pytest.raises(CommandError, match="No staff user"):
        call_command("create_partner", "New One", "--ae", alice.email)

"""`create_staff EMAIL --role support|ae|dealdesk [--name]`."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.roles import AE_GROUP, DEALDESK_GROUP, SUPPORT_GROUP

pytestmark = pytest.mark.django_db


def _run(*args):
    from io import StringIO

    out = StringIO()
    call_command("create_staff", *args, stdout=out)
    return out.getvalue()


def _roles(user):
    return set(user.groups.values_list("name", flat=True))


def test_creates_a_staff_member_in_the_role_and_emails_a_single_use_link(
    client, on_commit, mailoutbox
):
    with on_commit():
        out = _run("Nina@Wellhub.example", "--role", "dealdesk", "--name", "Nina Desk")
    user = User.objects.get(email="nina@wellhub.example")
    assert user.is_staff and not user.is_superuser and user.partner is None
    assert user.full_name == "Nina Desk" and _roles(user) == {DEALDESK_GROUP}
    assert not user.has_usable_password()
    assert "nina@wellhub.example" in out and "Dealdesk" in out
    (mail,) = mailoutbox
    assert mail.to == ["nina@wellhub.example"]
    assert mail.subject == "[Reseller Hub] Your Reseller Hub staff account"
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", mail.body).group(0)
    path = link.split("8000", 1)[1]
    form = client.get(path, follow=True)
    assert 'name="password1"' in form.content.decode()
    client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    user.refresh_from_db()
    assert user.has_usable_password()
    client.logout()
    assert client.get(path, follow=True).status_code in (200, 400)
    assert 'name="password1"' not in client.get(path, follow=True).content.decode()


def test_running_again_adds_the_role(mailoutbox):
    _run("max@wellhub.example", "--role", "support")
    mailoutbox.clear()
    out = _run("max@wellhub.example", "--role", "ae")
    user = User.objects.get(email="max@wellhub.example")
    assert _roles(user) == {SUPPORT_GROUP, AE_GROUP}
    assert "now also has the role Channel Partner AE" in out
    assert mailoutbox == []
    assert "nothing changed" in _run("max@wellhub.example", "--role", "ae")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("new@wellhub.example", "--role", "boss"), "role must be one of: support, ae, dealdesk"),
        (("not-an-email", "--role", "ae"), "is not a valid e-mail address"),
        (("", "--role", "ae"), "is not a valid e-mail address"),
        (("x" * 300 + "@wellhub.example", "--role", "ae"), "is not a valid e-mail address"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_no_writes(args, message, mailoutbox):
    users = User.objects.count()
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert User.objects.count() == users and mailoutbox == []


def test_a_partner_user_cannot_be_made_staff(alice):
    with pytest.raises(CommandError, match="is a partner user"):
        _run(alice.email, "--role", "support")
    alice.refresh_from_db()
    assert not alice.is_staff and _roles(alice) == set()


def test_the_role_is_required():
    with pytest.raises(CommandError, match="--role"):
        _run("someone@wellhub.example")


def test_a_missing_role_group_is_an_error_not_a_half_made_user():
    Group.objects.filter(name=AE_GROUP).delete()
    with pytest.raises(CommandError, match="run the migrations"):
        _run("ae3@wellhub.example", "--role", "ae")
    assert not User.objects.filter(email="ae3@wellhub.example").exists()

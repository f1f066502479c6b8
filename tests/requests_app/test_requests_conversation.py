"""The conversation on a request: the partner writes, the AE answers from the admin."""

import pytest
from django.test import Client

from requests_app.models import MESSAGE_MAX_LENGTH, RequestKind, RequestMessage
from tests.requests_app.requests_helpers import make_request

ADMIN = "/admin/requests_app/partnerrequest/"


@pytest.fixture
def launch(partner, alice, prospect, ae):
    return make_request(partner=partner, company=prospect, created_by=alice, assigned_ae=ae)


def write(client, launch, text, on_commit):
    with on_commit():
        return client.post(launch.get_absolute_url(), {"message": text})


def test_the_page_names_the_ae_with_a_mailto_link(alice_client, launch, ae):
    html = alice_client.get(launch.get_absolute_url()).content.decode()
    assert "Alex Account" in html
    assert f'href="mailto:{ae.email}?subject={launch.reference}"' in html
    assert 'name="message"' in html


def test_a_message_goes_on_the_timeline_and_to_the_ae(
    alice_client, alice, launch, ae, on_commit, mailoutbox
):
    response = write(alice_client, launch, "Can we meet on Tuesday?", on_commit)
    assert response.status_code == 302
    (message,) = RequestMessage.objects.all()
    assert (message.author, message.from_wellhub) == (alice, False)
    (mail,) = mailoutbox
    assert mail.to == [ae.email]
    assert "Can we meet on Tuesday?" in mail.body and launch.reference in mail.subject
    html = alice_client.get(launch.get_absolute_url()).content.decode()
    assert 'data-message-from="partner"' in html and "Can we meet on Tuesday?" in html


def test_a_colleague_sees_the_conversation(client, bob, alice, launch, on_commit):
    client.force_login(alice)
    write(client, launch, "From Alice", on_commit)
    client.force_login(bob)
    assert "From Alice" in client.get(launch.get_absolute_url()).content.decode()


def test_without_an_ae_the_team_that_answers_reads_it(
    alice_client, partner, alice, client_company, on_commit, mailoutbox, settings
):
    takeover = make_request(
        partner=partner, company=client_company, kind=RequestKind.TAKEOVER, created_by=alice
    )
    write(alice_client, takeover, "Any news?", on_commit)
    assert [mail.to for mail in mailoutbox] == [[settings.PARTNERSHIPS_TEAM_EMAIL]]


def test_html_in_a_message_is_shown_as_text(alice_client, launch, on_commit, mailoutbox):
    write(alice_client, launch, '<script>alert("x")</script><b>bold</b>', on_commit)
    html = alice_client.get(launch.get_absolute_url()).content.decode()
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert" not in mailoutbox[0].alternatives[0][0]


def test_a_message_of_10000_characters_is_refused_with_a_message(
    alice_client, launch, on_commit, mailoutbox
):
    response = write(alice_client, launch, "x" * 10_000, on_commit)
    assert response.status_code == 400
    assert f"at most {MESSAGE_MAX_LENGTH} characters" in response.content.decode()
    assert not RequestMessage.objects.exists() and mailoutbox == []


def test_an_empty_message_is_refused(alice_client, launch, on_commit):
    response = write(alice_client, launch, "   \n ", on_commit)
    assert response.status_code == 400
    assert "Write a message before sending it." in response.content.decode()
    assert not RequestMessage.objects.exists()


def test_another_partners_request_is_not_found(charlie_client, launch, on_commit, mailoutbox):
    assert write(charlie_client, launch, "Hello", on_commit).status_code == 404
    assert charlie_client.post(launch.get_absolute_url(), {"withdraw": "yes"}).status_code == 404
    assert not RequestMessage.objects.exists() and mailoutbox == []


def _admin_post(staff_client, launch, answer):
    return staff_client.post(
        f"{ADMIN}{launch.pk}/change/",
        {
            "status": launch.status,
            "assigned_ae": launch.assigned_ae_id or "",
            "note": "",
            "answer": answer,
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "1",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )


def test_the_ae_answers_from_the_admin_and_the_partner_reads_it(
    staff_client, staff, alice, launch, on_commit, mailoutbox
):
    alice_client = Client()
    alice_client.force_login(alice)
    write(alice_client, launch, "Question <one>", on_commit)
    admin_page = staff_client.get(f"{ADMIN}{launch.pk}/change/").content.decode()
    assert "Question &lt;one&gt;" in admin_page
    mailoutbox.clear()
    with on_commit():
        response = _admin_post(staff_client, launch, "Yes, Tuesday at 10.")
    assert response.status_code == 302
    answer = RequestMessage.objects.get(from_wellhub=True)
    assert answer.author == staff
    (mail,) = mailoutbox
    assert mail.to == [alice.email] and "Yes, Tuesday at 10." in mail.body
    html = alice_client.get(launch.get_absolute_url()).content.decode()
    assert 'data-message-from="wellhub"' in html and "Yes, Tuesday at 10." in html


def test_an_overlong_answer_is_refused_in_the_admin(staff_client, launch, mailoutbox):
    response = _admin_post(staff_client, launch, "y" * 10_000)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not RequestMessage.objects.exists() and mailoutbox == []

"""Absolute links in e-mails: one helper puts a path on the site's public address."""

from django.urls import reverse

from core.urls import absolute_url


def test_absolute_url_puts_the_path_on_the_site_address(settings):
    settings.SITE_URL = "https://hub.example"
    assert absolute_url(reverse("bulk:jobs")) == "https://hub.example/eligibility/bulk/"

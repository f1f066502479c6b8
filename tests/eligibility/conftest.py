"""Fixtures for the eligibility tests."""

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Personas are created with a password in almost every test; the real hasher is slow on
    # purpose and what it protects is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

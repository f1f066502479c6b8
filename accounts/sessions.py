"""The session engine: sessions in the database only, each row tagged with its user.

Not `cached_db`: with the cache in front, a Redis outage failed every signed-in request (the
engine raises when it cannot write the cache) and a deleted row could live on in the cache.
A primary-key read per request is what the database engine costs; it needs nothing but the
database, and `end_sessions` can end a user's sessions for good.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db.models import QuerySet

from accounts.models import Partner, User, UserSession

if TYPE_CHECKING:
    _Store = DatabaseSessionStore[UserSession]
else:
    _Store = DatabaseSessionStore  # generic only in the type stubs


class SessionStore(_Store):
    @classmethod
    def get_model_class(cls) -> type[UserSession]:
        return UserSession

    def create_model_instance(self, data: dict[str, Any]) -> UserSession:
        instance = super().create_model_instance(data)
        user_id = str(data.get(SESSION_KEY) or "")
        instance.user_id = int(user_id) if user_id.isdigit() else None
        return instance


def sessions_of(
    *,
    user: User | None = None,
    partner: Partner | None = None,
    emails: Iterable[str] | None = None,
) -> QuerySet[UserSession]:
    """The stored sessions of one user, of the users with these e-mails, or of a partner's."""
    if user is None and partner is None and emails is None:
        raise ValueError("say whose sessions")
    sessions = UserSession.objects.all()
    if user is not None:
        sessions = sessions.filter(user=user)
    if partner is not None:
        sessions = sessions.filter(user__partner=partner)
    if emails is not None:
        sessions = sessions.filter(user__email__in=list(emails))
    return sessions


def end_sessions(
    *,
    user: User | None = None,
    partner: Partner | None = None,
    emails: Iterable[str] | None = None,
) -> int:
    """Delete the sessions (call inside the transaction that deactivates); how many ended."""
    deleted, _ = sessions_of(user=user, partner=partner, emails=emails).delete()
    return deleted

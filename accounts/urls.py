"""The allauth pages the product uses, and no others (DESIGN §8).

allauth's own URLconf also mounts e-mail management, sign-up, password change,
re-authentication and more. Accounts are invitation-only and a user's address is changed by
staff, so those pages must not exist: every path not listed here answers 404.
"""

from allauth.account import views
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, re_path


def not_found(request: HttpRequest) -> HttpResponse:
    raise Http404


urlpatterns = [
    # allauth names the sign-up page in its e-mail to unknown addresses (our template does not
    # show it): the name must exist, the page must not.
    path("signup/", not_found, name="account_signup"),
    path("login/", views.login, name="account_login"),
    path("logout/", views.logout, name="account_logout"),
    path("inactive/", views.account_inactive, name="account_inactive"),
    path("login/code/", views.request_login_code, name="account_request_login_code"),
    path("login/code/confirm/", views.confirm_login_code, name="account_confirm_login_code"),
    path("password/reset/", views.password_reset, name="account_reset_password"),
    path("password/reset/done/", views.password_reset_done, name="account_reset_password_done"),
    re_path(
        r"^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        views.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    path(
        "password/reset/key/done/",
        views.password_reset_from_key_done,
        name="account_reset_password_from_key_done",
    ),
]

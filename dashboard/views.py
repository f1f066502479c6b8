"""The partner's home page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.http import AuthenticatedHttpRequest
from dashboard.selectors import context_for


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.user.is_staff and request.user.partner_id is None:
        return redirect("admin:index")  # staff work in the admin; they have no partner pages
    context = context_for(request.user)
    status = 403 if context.get("paused_partner") else 200
    return render(request, "dashboard/home.html", context, status=status)

"""The partner's home page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthenticatedHttpRequest
from dashboard.selectors import context_for


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = context_for(request.user)
    status = 403 if context.get("paused_partner") else 200
    return render(request, "dashboard/home.html", context, status=status)

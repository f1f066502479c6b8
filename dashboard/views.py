"""The partner's home page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.selectors import context_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    context = context_for(request.user)
    status = 403 if context.get("paused_partner") else 200
    return render(request, "dashboard/home.html", context, status=status)

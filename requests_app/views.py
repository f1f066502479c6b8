"""Placeholder views: replaced by the requests pages."""

from django.http import Http404


def new_launch(request):
    raise Http404


new_upsell = new_takeover = new_launch

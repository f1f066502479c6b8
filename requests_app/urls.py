from django.urls import path

from requests_app import views

app_name = "requests_app"
urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/launch/", views.new_launch, name="new_launch"),
    path("new/upsell/", views.new_upsell, name="new_upsell"),
    path("new/takeover/", views.new_takeover, name="new_takeover"),
    path("<str:reference>/", views.request_detail, name="detail"),
]

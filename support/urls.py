from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/sent/", views.report_sent, name="report_sent"),
]

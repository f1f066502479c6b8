from django.urls import path

from hub import support_views

app_name = "support"
urlpatterns = [
    path("support/report/", support_views.report, name="report"),
    path("support/report/sent/", support_views.report_sent, name="report_sent"),
]

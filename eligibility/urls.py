from django.urls import path

from eligibility import bulk_views, views

app_name = "eligibility"
urlpatterns = [
    path("check/", views.check, name="check"),
    path("bulk/", bulk_views.bulk_jobs, name="bulk"),
    path("bulk/template.csv", bulk_views.bulk_template, name="bulk_template"),
    path("bulk/<int:pk>/", bulk_views.bulk_job_detail, name="bulk_job"),
    path("bulk/<int:pk>/report.csv", bulk_views.bulk_report, name="bulk_report"),
    path("bulk/<int:pk>/fragment/", bulk_views.bulk_job_fragment, name="bulk_job_fragment"),
]

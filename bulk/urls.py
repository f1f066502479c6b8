from django.urls import path

from bulk import views

app_name = "bulk"
urlpatterns = [
    path("", views.bulk_jobs, name="jobs"),
    path("template.csv", views.bulk_template, name="template"),
    path("<int:pk>/", views.bulk_job_detail, name="job"),
    path("<int:pk>/report.csv", views.bulk_report, name="report"),
    path("<int:pk>/fragment/", views.bulk_job_fragment, name="job_fragment"),
]

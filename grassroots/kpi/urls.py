from django.urls import path

from . import report_views, views

urlpatterns = [
    path("chi-so/", views.dashboard, name="kpi-dashboard"),
    path("chi-so/don-vi/<str:code>/", views.dashboard, name="kpi-unit"),
    path("chi-so/du-lieu/<str:indicator>/", views.fact_list, name="kpi-facts"),
    path("chi-so/tiep-song/<str:code>/", views.relay_view, name="kpi-relay"),
    path("chi-so/ban-do/", views.map_view, name="kpi-map"),
    path("bao-cao-nam/", report_views.report_list, name="report-list"),
    path("bao-cao-nam/<int:report_id>/", report_views.report_detail, name="report-detail"),
    path("bao-cao-nam/viec/<int:job_id>/", report_views.report_job, name="report-job"),
    path("bao-cao-nam/tep/<int:job_id>/", report_views.report_file, name="report-file"),
]

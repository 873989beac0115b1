from django.urls import path

from . import views

urlpatterns = [
    path("chi-so/", views.dashboard, name="kpi-dashboard"),
    path("chi-so/don-vi/<str:code>/", views.dashboard, name="kpi-unit"),
    path("chi-so/du-lieu/<str:indicator>/", views.fact_list, name="kpi-facts"),
    path("chi-so/tiep-song/<str:code>/", views.relay_view, name="kpi-relay"),
    path("chi-so/ban-do/", views.map_view, name="kpi-map"),
]

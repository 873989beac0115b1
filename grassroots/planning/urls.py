from django.urls import path

from . import views

urlpatterns = [
    path("ke-hoach/kinh-phi/", views.funding, name="planning-funding"),
    path("ke-hoach/vi-tri-bang-tin/", views.sites, name="planning-sites"),
    path("ke-hoach/vi-tri-bang-tin/<int:site_id>/", views.site_detail, name="planning-site"),
    path("ke-hoach/kiem-tra/", views.inspections, name="planning-inspections"),
    path(
        "ke-hoach/kiem-tra/<int:inspection_id>/",
        views.inspection_detail,
        name="planning-inspection",
    ),
]

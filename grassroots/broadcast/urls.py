from django.urls import path

from . import views

urlpatterns = [
    path("dai-truyen-thanh/", views.station_list, name="station-list"),
    path(
        "dai-truyen-thanh/<int:station_id>/", views.station_timeline_view, name="station-timeline"
    ),
    path("dai-truyen-thanh/bao-cao-phat/", views.bulletin_report, name="bulletin-airplay"),
    path("ke-hoach-chuyen-doi/", views.conversion_plan, name="conversion-plan"),
    path("ke-hoach-chuyen-doi.xlsx", views.conversion_plan_xlsx, name="conversion-plan-xlsx"),
]

from django.urls import path

from . import views

urlpatterns = [
    path("khan-cap/", views.emergency_list, name="emergency-list"),
    path("khan-cap/ban-tin/", views.bulletin_search, name="emergency-bulletins"),
    path("khan-cap/<int:emergency_id>/", views.emergency_detail, name="emergency-detail"),
    path("canh-bao/", views.cap_alerts, name="cap-alerts"),
    path("canh-bao/cai-dat/", views.cap_settings, name="cap-settings"),
    path("canh-bao/<int:alert_id>/", views.cap_alert_detail, name="cap-alert"),
    path("feeds/cap.atom", views.cap_feed, name="cap-feed"),
]

from django.urls import path

from . import views

urlpatterns = [
    path("khan-cap/", views.emergency_list, name="emergency-list"),
    path("khan-cap/ban-tin/", views.bulletin_search, name="emergency-bulletins"),
    path("khan-cap/<int:emergency_id>/", views.emergency_detail, name="emergency-detail"),
    path("feeds/cap.atom", views.cap_feed, name="cap-feed"),
]

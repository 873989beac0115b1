from django.urls import path

from . import emergency_views

urlpatterns = [
    path("khan-cap/", emergency_views.emergency_list, name="emergency-list"),
    path("khan-cap/ban-tin/", emergency_views.bulletin_search, name="emergency-bulletins"),
    path("khan-cap/<int:emergency_id>/", emergency_views.emergency_detail, name="emergency-detail"),
]

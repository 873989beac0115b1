from django.urls import path

from . import fleet_views

urlpatterns = [
    path("thiet-bi/giam-sat/", fleet_views.fleet, name="device-fleet"),
    path("thiet-bi/giam-sat/<int:device_id>/", fleet_views.device_action, name="device-action"),
    path("thiet-bi/giam-sat/<int:device_id>/loi/", fleet_views.fault_history, name="device-faults"),
]

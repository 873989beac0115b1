from django.urls import path

from . import views

urlpatterns = [
    path("thiet-bi/", views.device_list, name="device-list"),
    path("thiet-bi/kiem-ke.xlsx", views.device_export, name="device-export"),
]

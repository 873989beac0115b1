from django.urls import path

from . import views

urlpatterns = [
    path("truc-tiep/", views.live_console, name="live-console"),
]

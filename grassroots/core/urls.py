from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="console-home"),
    path("nhat-ky/", views.audit_log, name="audit-log"),
    path("favicon.ico", views.favicon, name="favicon"),
]

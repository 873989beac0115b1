from django.urls import path

from . import views

urlpatterns = [path("don-vi/", views.tree, name="unit-tree")]

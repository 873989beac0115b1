from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("dang-nhap/", views.LoginView.as_view(), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("nguoi-dung/", views.user_list, name="user-list"),
    path("nguoi-dung/phan-quyen/", views.user_assign_chosen, name="user-assign-chosen"),
    path("nguoi-dung/<int:user_id>/phan-quyen/", views.user_assign, name="user-assign"),
    path("vai-tro/", views.role_list, name="role-list"),
    path("phan-quyen/<int:assignment_id>/xoa/", views.assignment_delete, name="assignment-delete"),
]

from django.urls import path

from . import views

urlpatterns = [
    path("dao-tao/can-bo/", views.staff_list, name="training-staff"),
    path("dao-tao/can-bo/<int:staff_id>/", views.staff_edit, name="training-staff-edit"),
    path("dao-tao/khoa-hoc/", views.course_list, name="training-courses"),
    path("dao-tao/lop-hoc/", views.session_list, name="training-sessions"),
    path("dao-tao/lop-hoc/<int:session_id>/", views.session_detail, name="training-session"),
    path("dao-tao/mau-danh-sach.xlsx", views.attendance_template, name="training-template"),
    path("dao-tao/can-dao-tao/", views.needs, name="training-needs"),
]

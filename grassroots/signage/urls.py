from django.urls import path

from . import views

urlpatterns = [
    path("board/", views.player, name="board-player"),
    path("board/sw.js", views.service_worker, name="board-sw"),
    path("bang-tin-dien-tu/", views.console, name="signage-console"),
    path("bang-tin-dien-tu/bo-cuc/", views.layouts_playlists, name="signage-layouts"),
    path("bang-tin-dien-tu/bo-cuc/<int:layout_id>/", views.layout_edit, name="signage-layout"),
    path(
        "bang-tin-dien-tu/bo-cuc/<int:layout_id>/xoa/",
        views.layout_delete,
        name="signage-layout-delete",
    ),
    path("bang-tin-dien-tu/danh-sach/moi/", views.playlist_edit, name="signage-playlist-new"),
    path(
        "bang-tin-dien-tu/danh-sach/<int:playlist_id>/",
        views.playlist_edit,
        name="signage-playlist",
    ),
    path("bang-tin-dien-tu/<int:device_id>/", views.board_detail, name="signage-board"),
    path(
        "bang-tin-dien-tu/<int:device_id>/xem-truoc/",
        views.board_preview,
        name="signage-preview",
    ),
    path(
        "bang-tin-dien-tu/xem-truoc/ban-tin/<int:bulletin_id>/",
        views.bulletin_preview,
        name="signage-bulletin-preview",
    ),
    path(
        "bang-tin-dien-tu/<int:device_id>/anh-chup.png",
        views.screenshot_file,
        name="signage-screenshot",
    ),
]

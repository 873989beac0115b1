from django.urls import path

from . import views

urlpatterns = [
    path("lien-thong/", views.peers, name="exchange-peers"),
    path("lien-thong/thong-diep/", views.messages_page, name="exchange-messages"),
    path("lien-thong/toan-quoc/", views.national, name="exchange-national"),
    path(
        "lien-thong/toan-quoc/ban-tin/<int:bulletin_id>/",
        views.sent_bulletin,
        name="exchange-sent-bulletin",
    ),
    path("lien-thong/thong-diep/<int:message_id>/gui-lai/", views.retry, name="exchange-retry"),
    path(
        "lien-thong/ban-tin-nhan/<int:bulletin_id>/ban-sua/",
        views.bulletin_update,
        name="exchange-bulletin-update",
    ),
    path(
        "lien-thong/thong-diep/<int:message_id>/gui-ngay/", views.send_now, name="exchange-send-now"
    ),
]

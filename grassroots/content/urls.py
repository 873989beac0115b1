from django.urls import path

from . import chain_views, views

urlpatterns = [
    path("ban-tin/", views.archive, name="bulletin-archive"),
    path("ban-tin/moi/", views.editor, name="bulletin-new"),
    path("ban-tin/cho-duyet/", views.queue, name="bulletin-queue"),
    path("ban-tin/hop-thu/", views.inbox, name="bulletin-inbox"),
    path("ban-tin/hop-thu/<int:share_id>/nhan/", views.pick_up, name="bulletin-pick-up"),
    path("ban-tin/doc-thu/", views.tts_preview, name="bulletin-tts-preview"),
    path("ban-tin/doc-thu/<str:task_id>/", views.tts_audio, name="bulletin-tts-audio"),
    path("ban-tin/doc-thu/<str:task_id>/tep/", views.tts_audio_file, name="bulletin-tts-file"),
    path("ban-tin/tep/<int:asset_id>/", views.media_file, name="bulletin-media-file"),
    path("ban-tin/quy-trinh-duyet/", chain_views.chain_list, name="approval-chains"),
    path("ban-tin/quy-trinh-duyet/chon/", chain_views.chain_open, name="approval-chain-open"),
    path(
        "ban-tin/quy-trinh-duyet/<str:unit_code>/",
        chain_views.chain_edit,
        name="approval-chain",
    ),
    path(
        "ban-tin/quy-trinh-duyet/<str:unit_code>/xoa/",
        chain_views.chain_delete,
        name="approval-chain-delete",
    ),
    path("ban-tin/<int:bulletin_id>/", views.editor, name="bulletin-edit"),
    path("ban-tin/<int:bulletin_id>/tep/", views.media_list, name="bulletin-media"),
    path(
        "ban-tin/<int:bulletin_id>/tep/<int:asset_id>/xoa/",
        views.media_delete,
        name="bulletin-media-delete",
    ),
    path("ban-tin/<int:bulletin_id>/tai-len/", views.upload, name="bulletin-upload"),
    path(
        "ban-tin/<int:bulletin_id>/chuyen/<slug:name>/",
        views.transition,
        name="bulletin-transition",
    ),
]

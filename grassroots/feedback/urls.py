from django.urls import path, re_path

from . import catalog_views, open311, views

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    # Citizen app (PWA scope /phan-anh/)
    path("phan-anh/", views.citizen_home, name="feedback-citizen"),
    path("phan-anh/theo-doi/", views.citizen_lookup, name="feedback-lookup"),
    path("phan-anh/theo-doi/<str:code>/", views.citizen_track, name="feedback-track"),
    path("phan-anh/theo-doi/<str:code>/danh-gia/", views.citizen_rate, name="feedback-rate"),
    path("phan-anh/anh/<str:token>.jpg", views.citizen_photo, name="feedback-photo"),
    path("phan-anh/ban-tin/<int:bulletin_id>/", views.bulletin_rate, name="feedback-bulletin"),
    path("phan-anh/manifest.webmanifest", views.manifest, name="feedback-manifest"),
    path("phan-anh/sw.js", views.service_worker, name="feedback-sw"),
    # Officer console
    path("xu-ly-phan-anh/", views.inbox, name="feedback-inbox"),
    path("xu-ly-phan-anh/kiem-duyet/", views.moderation, name="feedback-moderation"),
    path("xu-ly-phan-anh/open311/", views.open311_keys, name="feedback-keys"),
    path("xu-ly-phan-anh/linh-vuc/", catalog_views.categories, name="feedback-categories"),
    path("xu-ly-phan-anh/linh-vuc/moi/", catalog_views.category_edit, name="feedback-category-new"),
    path(
        "xu-ly-phan-anh/linh-vuc/<int:category_id>/",
        catalog_views.category_edit,
        name="feedback-category",
    ),
    path(
        "xu-ly-phan-anh/linh-vuc/<int:category_id>/xoa/",
        catalog_views.category_delete,
        name="feedback-category-delete",
    ),
    path("xu-ly-phan-anh/ngay-nghi/", catalog_views.holidays, name="feedback-holidays"),
    path(
        "xu-ly-phan-anh/ngay-nghi/nhap/",
        catalog_views.holidays_import,
        name="feedback-holidays-import",
    ),
    path(
        "xu-ly-phan-anh/ngay-nghi/<int:holiday_id>/",
        catalog_views.holiday_edit,
        name="feedback-holiday",
    ),
    path(
        "xu-ly-phan-anh/ngay-nghi/<int:holiday_id>/xoa/",
        catalog_views.holiday_delete,
        name="feedback-holiday-delete",
    ),
    path("xu-ly-phan-anh/<int:report_id>/", views.detail, name="feedback-detail"),
    path("xu-ly-phan-anh/<int:report_id>/<slug:action>/", views.act, name="feedback-action"),
    # Open311 GeoReport v2
    re_path(r"^open311/v2/discovery" + FMT, open311.discovery, name="open311-discovery"),
    re_path(r"^open311/v2/services" + FMT, open311.services, name="open311-services"),
    re_path(
        r"^open311/v2/services/(?P<code>[\w-]+)" + FMT,
        open311.service_definition,
        name="open311-service",
    ),
    re_path(r"^open311/v2/requests" + FMT, open311.requests_view, name="open311-requests"),
    re_path(
        r"^open311/v2/requests/(?P<request_id>[\w-]+)" + FMT,
        open311.request_detail,
        name="open311-request",
    ),
    re_path(
        r"^open311/v2/tokens/(?P<token>[\w-]+)" + FMT, open311.token_detail, name="open311-token"
    ),
]

"""URL map: console at /, API at /api/v1/, back office at /admin/, probes at /healthz, /readyz."""

import importlib.util

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from grassroots.core import media_views
from grassroots.core import views as core_views

from .api import api

handler404 = "grassroots.core.views.not_found"
handler500 = "grassroots.core.views.server_error"
handler403 = "grassroots.core.views.forbidden"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("media/assets/<path:path>", media_views.asset, name="media-asset"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("grassroots.accounts.urls")),
    path("", include("grassroots.units.urls")),
    path("", include("grassroots.core.urls")),
]

# Modules with console or public pages, included at the root.
URL_MODULES = (
    "content.urls",
    "broadcast.urls",
    "alerts.urls",
    "live.urls",
    "devices.fleet_urls",
    "devices.urls",
    "signage.urls",
    "feedback.urls",
    "training.urls",
    "planning.urls",
    "kpi.urls",
    "exchange.urls",
)
for module_name in URL_MODULES:
    if importlib.util.find_spec(f"grassroots.{module_name}") is not None:
        urlpatterns.append(path("", include(f"grassroots.{module_name}")))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

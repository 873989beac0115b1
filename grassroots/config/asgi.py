"""ASGI entry point, kept for completeness; production serves WSGI (see performance.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.config.settings")
application = get_asgi_application()

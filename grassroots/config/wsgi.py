"""WSGI entry point (gunicorn serves the web process)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.config.settings")
application = get_wsgi_application()

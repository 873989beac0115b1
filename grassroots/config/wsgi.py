"""WSGI entry point (gunicorn serves the web process)."""

import os

from django.core.wsgi import get_wsgi_application

from grassroots.core.slowclient import SlowClientGuard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.config.settings")
# Request bodies read with a deadline per read: a client trickling or stalling its upload is
# cut off with a 408 instead of holding a worker thread (core.slowclient).
application = SlowClientGuard(get_wsgi_application())

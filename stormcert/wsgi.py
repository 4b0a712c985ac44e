import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stormcert.settings")
application = get_wsgi_application()

# In production, loaded before gunicorn forks its workers (--preload), not on each worker's first
# request. Not under DEBUG: runserver imports this module too, forks nothing, and restarts on
# every change.
if not settings.DEBUG:
    from stormcert.lib.warmup import prepare_for_fork

    prepare_for_fork()

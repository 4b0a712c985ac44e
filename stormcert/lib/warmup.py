"""What every worker would otherwise load on its first request, loaded once in the master.

gunicorn's `--preload` (deploy/systemd/stormcert-app.service) imports `stormcert.wsgi` in the
master before it forks, but Django's application object loads only the settings, the apps and
the middleware. The URL configuration (every `urls` and `views` module, the forms and services
they import) and the templates are loaded on the first request that needs them, in each worker:
about 1 s on an idle machine for the first page a fresh worker served (17-21 s on a busy one,
issue 20), paid by a candidate after every worker start, kill or `--max-requests` recycle, while
the worker's other threads wait on the same imports. Loaded here, a forked worker has them
already (copy-on-write), and so does the first request.

Then the collector: a forked worker's first full collection walks every object it inherited,
writing to each (so copying every page of the master's heap): about 0.15 s of its first
request. `gc.freeze()` (made for pre-fork servers) leaves the master's objects out of the
worker's collections. Measured with one worker, 3 s after start: the first request took 983 ms,
157 ms with the warm-up, 15 ms with the freeze too (bench/README.md).

Nothing here touches the database: a connection opened in the master would be shared by every
worker forked from it."""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path
from typing import cast

from django.conf import settings
from django.db import connections
from django.template import TemplateSyntaxError, engines
from django.template.backends.django import DjangoTemplates
from django.template.utils import get_app_template_dirs
from django.urls import get_resolver
from django.utils import translation

log = logging.getLogger(__name__)


def project_template_names() -> list[str]:
    """The names of the project's own templates (not Django's or third parties'), as
    `get_template` takes them."""
    root = Path(settings.BASE_DIR) / "stormcert"
    dirs = [Path(d) for d in cast("list[str | Path]", settings.TEMPLATES[0]["DIRS"])]
    dirs += [Path(d) for d in get_app_template_dirs("templates")]
    names: set[str] = set()
    for folder in dirs:
        if not folder.is_relative_to(root) or not folder.is_dir():
            continue
        names.update(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
    return sorted(names)


def warm() -> dict[str, float]:
    """Import the URL configuration, read the message catalogue and compile the project's
    templates into the template engine's cache; seconds each took. A template that does not compile is logged, not raised:
    the page that uses it fails as it would have, and the rest of the site starts."""
    began = time.perf_counter()
    resolver = get_resolver()
    _ = resolver.url_patterns  # imports every urls module and the views they name
    _ = resolver.reverse_dict  # what reverse() and {% url %} build on their first use
    urls = time.perf_counter() - began

    began = time.perf_counter()
    # The first gettext of a process reads every app's message catalogue (usually done by now,
    # by some module the URL configuration imported; this makes sure).
    with translation.override(settings.LANGUAGE_CODE):
        translation.gettext("Sign in")
    catalogue = time.perf_counter() - began

    began = time.perf_counter()
    compiled = 0
    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        for name in project_template_names():
            try:
                engine.get_template(name)
                compiled += 1
            except TemplateSyntaxError as exc:
                log.error("template %s does not compile: %s", name, exc)
    templates = time.perf_counter() - began
    connections.close_all()  # nothing should have opened one; never hand one to the workers
    return {"urls": urls, "catalogue": catalogue, "templates": templates, "compiled": compiled}


def prepare_for_fork() -> dict[str, float]:
    """`warm()`, then collect what loading left behind and freeze the rest (see above)."""
    timings = warm()
    gc.collect()
    gc.freeze()
    return timings

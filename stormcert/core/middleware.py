"""Response headers Django has no setting for."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

from stormcert.programs.rules import RuleMissing

logger = logging.getLogger(__name__)


class PermissionsPolicyMiddleware:
    """Adds the Permissions-Policy header (settings.PERMISSIONS_POLICY): the browser features this
    site never uses are switched off, so injected content could not use them either."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.value = getattr(settings, "PERMISSIONS_POLICY", "")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.value:
            response.headers.setdefault("Permissions-Policy", self.value)
        return response


class DatabaseUnavailableMiddleware:
    """A database that is restarting or unreachable answers 503 with Retry-After, not a 500.

    Measured in the exam-day fault run (bench/README.md): a database restart turned every request
    in its 1-2 s window into a 500. The exam page's journal retries either way, but a 503 says what
    is true (try again shortly) to browsers, API clients and the proxy's error pages, and the
    worker's broken connection is dropped so its next request opens a fresh one."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        message = "The service is briefly unavailable. Please try again in a few seconds."
        if "application/json" in request.headers.get("Accept", "") or request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response


class RulesMissingMiddleware:
    """A program whose rules lack a value answers 503 with the missing rule named, not a 500.

    Found in use: a rule version saved with one key made every ToR's page a 500
    (RuleMissing 'term.start'). The staff editor now refuses incomplete versions, but rules
    also arrive by definition files, data migrations and the shell; whatever the path, the person
    is told the page is unavailable and why, staff see the program flagged on their home page,
    and the error is logged for the operators."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RuleMissing):
            return None
        logger.error("program rules incomplete for %s %s: %s", request.method, request.path, exception)
        if "application/json" in request.headers.get("Accept", "") or request.path.startswith("/api/"):
            return JsonResponse({"detail": str(exception)}, status=503)
        body = render_to_string("core/rules_missing.html", {"problem": str(exception)}, request=request)
        return HttpResponse(body, status=503)


class RefuseNulMiddleware:
    """A NUL character in the path, the query string or a form field is refused with a 400.

    No field of ours accepts one, and PostgreSQL cannot hold one in text: a query with it raises
    DataError, a 500 on any view that reads a parameter itself (a search box, an id) rather than
    through a Django form (whose CharField refuses NUL already). Found by the bad-input fuzz test
    (tests/security/test_bad_input.py) on PostgreSQL. JSON bodies are checked where parsed.

    Checked in process_view, once the view is known: a multipart body is parsed here only for
    views that are not CSRF-exempt (CsrfViewMiddleware parses it for those anyway), so an exempt
    view that reads the raw body (the API, the Stripe webhook) still can."""

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
    MESSAGE = "The request contains a NUL character (0x00), which no field here accepts."

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not self._has_nul(request, reads_body=getattr(view, "csrf_exempt", False)):
            return None
        if "application/json" in request.headers.get("Accept", "") or request.path.startswith("/api/"):
            return JsonResponse({"detail": self.MESSAGE}, status=400)
        return HttpResponse(self.MESSAGE, status=400, content_type="text/plain; charset=utf-8")

    def _has_nul(self, request: HttpRequest, *, reads_body: bool) -> bool:
        if "\x00" in request.path or _holds_nul(request.GET):
            return True
        if request.method != "POST" or request.content_type not in self.FORM_TYPES:
            return False
        if reads_body and request.content_type != "application/x-www-form-urlencoded":
            return False  # parsing urlencoded keeps request.body readable; multipart does not
        try:
            return _holds_nul(request.POST)
        except MultiPartParserError:
            return False  # Django marks the body unreadable; the view answers as for an empty form


def _holds_nul(params: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in params.lists())

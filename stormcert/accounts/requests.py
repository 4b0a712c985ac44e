"""The request type of views that only a signed-in person reaches.

Following django-stubs' advice for `@login_required` views: annotate `request` with this class
and `request.user` is a `User` to the type checker, with no `cast` at each use. It is only an
annotation; the decorator (`login_required`, `staff_required`) is what makes it true."""

from __future__ import annotations

from django.http import HttpRequest

from stormcert.accounts.models import User


class AuthedRequest(HttpRequest):
    user: User

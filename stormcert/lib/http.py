from __future__ import annotations

import ipaddress
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, RawPostDataException


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the person asking: what rate limits count and the audit log keeps.

    Behind nginx every request comes from nginx's address, so everyone would share one public
    rate limit (found by `make cluster`). When REMOTE_ADDR is one of TRUSTED_PROXIES, the client is
    the last X-Forwarded-For hop that is not a trusted proxy: each proxy appends the address it
    was talked to by, so the hops a client may forge are all to the left of that one."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    if not remote or not settings.TRUSTED_PROXIES or not _is_trusted_proxy(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted_proxy(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # not an address: our proxy did not write it; count the proxy
    return remote


# --- JSON request bodies ----------------------------------------------------------------------
#
# Every JSON endpoint of ours reads its body through `json_body`, so a hostile body (too big, too
# deep, not UTF-8, NaN) is a 400 with a plain message, never a RecursionError or a 500. The
# django-ninja API parses its own bodies (ninja.parser: any exception is a 400) and is fuzzed by
# tests/security/test_bad_input.py like these.

JSON_MAX_BYTES = 64 * 1024  # the autosave sends well under 1 KB
JSON_MAX_DEPTH = 20  # ours are one level deep; json.loads recurses once per level


class BadJSON(ValueError):
    """The request body is not JSON we accept; the message says why, for the 400 answer."""


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, counted without parsing (brackets
    inside strings do not count), so depth is refused before json.loads recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> None:
    raise BadJSON(f"{name} is not a number JSON allows.")


def parse_json(data: bytes, *, max_bytes: int = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """Bytes to a JSON value, or BadJSON with a message a client can act on."""
    if len(data) > max_bytes:
        raise BadJSON(f"The request body is larger than {max_bytes:,} bytes.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJSON("The request body is not UTF-8 text.") from None
    if json_depth(text) > max_depth:
        raise BadJSON(f"The JSON is nested more than {max_depth} levels deep.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except BadJSON:
        raise
    except (ValueError, RecursionError) as exc:
        # ValueError covers malformed JSON and integers of more than 4,300 digits.
        raise BadJSON(f"The request body is not valid JSON ({exc}).") from None


def json_body(request: HttpRequest, **limits: int) -> Any:
    """The request's JSON body (see parse_json); the Content-Length is checked before reading,
    so an oversized body is refused without being read into memory."""
    max_bytes = limits.get("max_bytes", JSON_MAX_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise BadJSON(f"The request body is larger than {max_bytes:,} bytes.")
    try:
        data = request.body
    except RawPostDataException:
        # A multipart form body already parsed (by CSRF checking): it was never JSON.
        raise BadJSON("The request body is a form, not JSON.") from None
    return parse_json(data, **limits)


def bounded_int(value: Any, *, name: str, low: int, high: int) -> int:
    """An integer field of a JSON body, within what its database column holds ([low, high]).
    Strings of digits are accepted (as int() does); booleans, fractions and infinities are not."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise BadJSON(f"{name} must be a whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise BadJSON(f"{name} must be a whole number.") from None
    if not low <= number <= high:
        raise BadJSON(f"{name} must be between {low} and {high:,}.")
    return number


def id_param(value: Any) -> int | None:
    """A database id typed into a form or query string (`?bank=3`), or None for anything that is
    not one (blank, text, negative, past the bigint range): filter(pk="") is a ValueError, a 500."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)

"""A fixed-window rate limit in the cache, per client address and scope.

The public endpoints (directory, verification, API) use it; the cache is Redis in production
(REDIS_URL), so every worker counts against the same window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from stormcert.lib.http import client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """ "120/m" is 120 requests a minute; "10/s", "1000/h" likewise."""
        try:
            count, period = text.strip().split("/")
            return cls(int(count), PERIODS[period])
        except (ValueError, KeyError):
            raise ImproperlyConfigured(f"Rate {text!r}: write it like 120/m (per s, m or h).") from None


def retry_after(request: HttpRequest, scope: str, rate: Rate | None = None, cost: int = 1) -> int | None:
    """Count this request; None when allowed, else the seconds until the window turns."""
    rate = rate or Rate.parse(settings.RATE_LIMIT_PUBLIC)
    now = int(time.time())
    window = now // rate.seconds
    key = f"rl:{scope}:{client_ip(request) or 'unknown'}:{window}"
    # add() is a no-op when the key exists; incr() is atomic in Redis and per-process in locmem.
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        used = cache.incr(key, cost)
    except ValueError:  # expired between add and incr
        cache.set(key, cost, timeout=rate.seconds + 1)
        used = cost
    if used > rate.count:
        return (window + 1) * rate.seconds - now or 1
    return None


def limit_message(seconds: int) -> str:
    return (
        f"Too many requests from your address. Please wait {seconds} second{'s' if seconds != 1 else ''} "
        "and try again."
    )

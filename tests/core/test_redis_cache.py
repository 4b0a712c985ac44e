"""With REDIS_URL the cache (rate limits, shared by every node) is Redis, through the `redis`
client: a configured Redis must work, and /health/ checks it. Run in a fresh process, as a node
would start, against the Redis these machines run on 127.0.0.1:6379 (database 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, django
django.setup()
from django.core.cache import cache, caches
cache.set("stormcert-test", "shared", timeout=30)
print(json.dumps({
    "backend": type(caches["default"]).__name__,
    "value": cache.get("stormcert-test"),
    "cache_check": __import__("stormcert.core.health", fromlist=["_timed"])._timed(
        __import__("stormcert.core.health", fromlist=["_cache"])._cache
    )["ok"],
}))
"""


def test_a_configured_redis_is_the_cache_and_works() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stormcert.settings",
        "REDIS_URL": "redis://127.0.0.1:6379/11",
        "DOTENV_FILE": "",
        "DEBUG": "1",
        "SECRET_KEY": "test-" + "x" * 60,
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"backend": "RedisCache", "value": "shared", "cache_check": True}

"""A fixed-window rate limiter on Django's cache, shared by every web process (Redis when
configured, else the database cache).

Limits are named by their Django setting (every declared setting is there with its default,
see `mrblue/conf.py`), so the editor needs nothing from the apps above it.
"""

import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache

from editor.jsonapi import json_error


class MinuteLimiter:
    """At most `settings.<limit_setting>` hits per key per clock minute."""

    def __init__(self, limit_setting: str):
        self.limit_setting = limit_setting

    def hit(self, key: str) -> int | None:
        """Count a hit; return the seconds to wait if over the limit, else None."""
        now = time.time()
        cache_key = self._key(key, now)
        cache.add(cache_key, 0, timeout=120)
        return self._wait(cache.incr(cache_key), now)

    async def ahit(self, key: str) -> int | None:
        """`hit` for async views (the database cache may not be called from the event loop)."""
        now = time.time()
        cache_key = self._key(key, now)
        await cache.aadd(cache_key, 0, timeout=120)
        return self._wait(await cache.aincr(cache_key), now)

    @staticmethod
    def _key(key: str, now: float) -> str:
        return f"mrblue:rate:{key}:{int(now // 60)}"

    def _wait(self, hits: int, now: float) -> int | None:
        if hits > getattr(settings, self.limit_setting):
            return max(1, 60 - int(now % 60))
        return None


def limit_per_user(limiter: MinuteLimiter, scope: str, message: str):
    """A view decorator: over the limit, a logged-in user gets 429 JSON `rate_limited` with
    `Retry-After`, and the view does not run."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            wait = limiter.hit(f"{scope}:{request.user.pk}")
            if wait:
                return json_error(429, "rate_limited", message, retry_after=wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

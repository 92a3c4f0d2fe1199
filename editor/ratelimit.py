"""A sliding-window rate limiter on Django's cache, shared by every web process (Redis when
configured, else the database cache).

Each key counts its hits per clock minute; a hit is judged on this minute's count plus last
minute's, weighted by how much of last minute is still inside the past sixty seconds (the
estimate Cloudflare's limiter uses). A fixed window alone lets a client through twice the
limit across a minute boundary, and resets a count mid-burst.

Limits are named by their Django setting (every declared setting is there with its default,
see `mrblue/conf.py`), so the editor needs nothing from the apps above it.
"""

import math
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache

from editor.jsonapi import json_error

WINDOW = 60  # seconds


class MinuteLimiter:
    """At most `settings.<limit_setting>` hits per key in any sixty seconds (estimated)."""

    def __init__(self, limit_setting: str):
        self.limit_setting = limit_setting

    def hit(self, key: str, now: float | None = None) -> int | None:
        """Count a hit; return the seconds to wait if over the limit, else None."""
        now = time.time() if now is None else now
        current, previous = self._keys(key, now)
        cache.add(current, 0, timeout=2 * WINDOW)
        hits = cache.incr(current)
        return self._wait(hits, cache.get(previous, 0), now)

    async def ahit(self, key: str, now: float | None = None) -> int | None:
        """`hit` for async views (the database cache may not be called from the event loop)."""
        now = time.time() if now is None else now
        current, previous = self._keys(key, now)
        await cache.aadd(current, 0, timeout=2 * WINDOW)
        hits = await cache.aincr(current)
        return self._wait(hits, await cache.aget(previous, 0), now)

    @staticmethod
    def _keys(key: str, now: float) -> tuple[str, str]:
        minute = int(now // WINDOW)
        return f"mrblue:rate:{key}:{minute}", f"mrblue:rate:{key}:{minute - 1}"

    def _wait(self, hits: int, previous: int, now: float) -> int | None:
        limit = getattr(settings, self.limit_setting)
        return seconds_until_allowed(hits, previous, (now % WINDOW) / WINDOW, limit)


def seconds_until_allowed(hits: int, previous: int, elapsed: float, limit: int) -> int | None:
    """None if `hits` this minute (this one included) plus `previous` last minute, weighted
    by the `elapsed` fraction of this minute, is within `limit`; else the whole seconds until
    one more hit would be, if none is made meanwhile."""
    if hits + previous * (1 - elapsed) <= limit:
        return None
    if hits < limit:  # still this minute: wait for last minute's weight to fall enough
        allowed_at = 1 - (limit - hits - 1) / previous
        return max(1, math.ceil((allowed_at - elapsed) * WINDOW))
    # next minute, where this minute's hits are the weighted ones
    allowed_at = 1 + max(0.0, 1 - (limit - 1) / hits)
    return max(1, math.ceil((allowed_at - elapsed) * WINDOW))


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

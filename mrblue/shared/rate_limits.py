"""A sliding-window rate limiter shared by every web process: its counts live in Redis when
Django's cache is Redis, else in a table of the database (`mrblue.shared.rate_counts`).

Each key counts its hits per clock window; a hit is judged on this window's count plus the
last one's, weighted by how much of the last window is still inside the past window's length
(the estimate Cloudflare's limiter uses). A fixed window alone lets a client through twice
the limit across a window boundary, and resets a count mid-burst.

Limits are named by their Django setting (every declared setting is there with its default,
see `mrblue/app_settings.py`), so the editor needs nothing from the apps above it.
"""

import math
import time
from functools import wraps

from django.conf import settings

from mrblue.shared.errors import json_error
from mrblue.shared.rate_counts import counts


class RateLimiter:
    """At most `settings.<limit_setting>` hits per key in any `window` seconds (estimated)."""

    def __init__(self, limit_setting: str, window: float = 60):
        self.limit_setting = limit_setting
        self.window = window

    @property
    def limit(self) -> int:
        """The limit now (settings may change in tests)."""
        return getattr(settings, self.limit_setting)

    def hit(self, key: str, now: float | None = None, count: int = 1) -> float | None:
        """Count `count` hits; return the seconds to wait if over the limit, else None."""
        now = time.time() if now is None else now
        hits, previous = counts().add(*self._keys(key, now), count, self._keep_s, now)
        return self._wait(hits, previous, now)

    async def ahit(self, key: str, now: float | None = None, count: int = 1) -> float | None:
        """`hit` for async code: on the event loop with Redis, in the sync thread with the
        database. (Not Django's async cache calls: their `aincr` reads and writes in two
        steps on every backend, Redis's too, so concurrent hits would be lost.)"""
        now = time.time() if now is None else now
        hits, previous = await counts().aadd(*self._keys(key, now), count, self._keep_s, now)
        return self._wait(hits, previous, now)

    def give_back(self, key: str, count: int, when: float) -> None:
        """Uncount `count` hits made at `when` and not used after all (a lease of hits); a
        count never goes below zero."""
        counts().take_back(self._keys(key, when)[0], count)

    async def agive_back(self, key: str, count: int, when: float) -> None:
        """`give_back` for async code."""
        await counts().atake_back(self._keys(key, when)[0], count)

    def counted(self, key: str, now: float | None = None) -> int:
        """The hits of `key` counted in the window `now` falls in."""
        return counts().get(self._keys(key, time.time() if now is None else now)[0])

    @property
    def _keep_s(self) -> int:
        # A window's count is read until the next window ends.
        return math.ceil(2 * self.window)

    def _keys(self, key: str, now: float) -> tuple[str, str]:
        number = int(now // self.window)
        name = f"mrblue:rate:{self.window:g}:{key}"
        return f"{name}:{number}", f"{name}:{number - 1}"

    def _wait(self, hits: int, previous: int, now: float) -> float | None:
        elapsed = (now % self.window) / self.window
        windows = windows_until_allowed(hits, previous, elapsed, self.limit)
        return None if windows is None else windows * self.window


class Lease:
    """One client's hits on a `RateLimiter` key, counted ahead of use: one at first, then
    twice as many each time up to `1/share` of the limit, so a busy client asks the store once
    per many hits and many quiet clients of one key hold little. What a lease leaves unused
    goes back with `arelease`; a refused hit takes nothing."""

    def __init__(self, limiter: RateLimiter, key: str, share: int = 10):
        self.limiter, self.key, self.share = limiter, key, share
        self.left, self.taken_at, self.next = 0, 0.0, 1

    async def atake(self) -> float | None:
        """Use one hit; return the seconds to wait if over the limit, else None."""
        if self.left == 0:
            size = min(self.next, max(1, self.limiter.limit // self.share))
            now = time.time()
            wait = await self.limiter.ahit(self.key, now, count=size)
            if wait is not None:
                await self.limiter.agive_back(self.key, size, now)
                self.next = 1
                return wait
            self.left, self.taken_at, self.next = size, now, 2 * size
        self.left -= 1
        return None

    async def arelease(self) -> None:
        """Give back what is left of the lease (the client is gone)."""
        left, self.left = self.left, 0
        if left:
            await self.limiter.agive_back(self.key, left, self.taken_at)


def windows_until_allowed(hits: int, previous: int, elapsed: float, limit: int) -> float | None:
    """None if `hits` this window (these included) plus `previous` in the last one, weighted
    by the `elapsed` fraction of this window, is within `limit`; else the windows until one
    more hit would be, if none is made meanwhile."""
    if hits + previous * (1 - elapsed) <= limit:
        return None
    if hits < limit:  # still this window: wait for the last one's weight to fall enough
        return 1 - (limit - hits - 1) / previous - elapsed
    # the next window, where this window's hits are the weighted ones
    return 1 + max(0.0, 1 - (limit - 1) / hits) - elapsed


def limit_per_user(limiter: RateLimiter, scope: str, message: str):
    """A view decorator: over the limit, a logged-in user gets 429 JSON `rate_limited` with
    `Retry-After`, and the view does not run."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            wait = limiter.hit(f"{scope}:{request.user.pk}")
            if wait is not None:
                return json_error(429, "rate_limited", message, retry_after=retry_after(wait))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def retry_after(wait: float) -> int:
    """A wait in seconds as HTTP's Retry-After: whole seconds, at least one."""
    return max(1, math.ceil(wait))

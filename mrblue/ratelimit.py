"""A fixed-window rate limiter on Django's cache (Redis when configured, so shared)."""

import time
from functools import wraps

from django.core.cache import cache
from django.http import JsonResponse

from mrblue.conf import app_settings


class MinuteLimiter:
    """At most `limit` hits per key per clock minute."""

    def __init__(self, limit_setting: str):
        self.limit_setting = limit_setting

    def hit(self, key: str) -> int | None:
        """Count a hit; return the seconds to wait if over the limit, else None."""
        now = time.time()
        window = int(now // 60)
        cache_key = f"mrblue:rate:{key}:{window}"
        cache.add(cache_key, 0, timeout=120)
        count = cache.incr(cache_key)
        if count > getattr(app_settings, self.limit_setting):
            return max(1, 60 - int(now % 60))
        return None


minute_limiter = MinuteLimiter("MINT_RATE_PER_MINUTE")
tool_limiter = MinuteLimiter("TOOL_CALLS_PER_MINUTE")


def limit_per_user(limiter: MinuteLimiter, scope: str, message: str):
    """A view decorator: over the limit, a logged-in user gets 429 JSON `rate_limited` (the
    API's error shape) with `Retry-After`, and the view does not run."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            wait = limiter.hit(f"{scope}:{request.user.pk}")
            if wait:
                error = {"code": "rate_limited", "message": message}
                response = JsonResponse({"ok": False, "error": error}, status=429)
                response["Retry-After"] = str(wait)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

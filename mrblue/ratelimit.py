"""A fixed-window rate limiter on Django's cache (Redis when configured, so shared)."""

import time

from django.core.cache import cache

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

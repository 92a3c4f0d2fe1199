"""The Redis cache (`mrblue.cache.RedisCache`): one client per connection pool, and counters
in one round trip that lose no count."""

import os
import threading

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the Redis cache is not configured"
)


def test_every_call_shares_one_client_per_pool():
    # Django keeps a cache object per thread; each one's calls share its client.
    client = cache._cache.get_client(write=True)
    cache.set("shared", 1)
    assert cache.get("shared") == 1
    assert cache._cache.get_client() is client


def test_incr_and_decr_count_stored_keys_and_refuse_missing_ones():
    cache.set("counted", 5)
    assert cache.incr("counted", 3) == 8
    assert cache.decr("counted", 2) == 6
    assert cache.get("counted") == 6
    cache.delete("missing")
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    assert cache.get("missing") is None  # not made by the attempt


def test_concurrent_increments_are_all_counted():
    cache.set("busy", 0)
    threads = [
        threading.Thread(target=lambda: [cache.incr("busy") for _ in range(50)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("busy") == 200


def test_incr_is_one_round_trip(monkeypatch):
    client = cache._cache.get_client(write=True)
    cache.set("trips", 1)
    sent = []
    original = client.execute_command
    monkeypatch.setattr(
        client, "execute_command", lambda *args, **kw: sent.append(args[0]) or original(*args, **kw)
    )
    cache.incr("trips")
    assert sent == ["EVAL"]

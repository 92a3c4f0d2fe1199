"""The Redis cache (`mrblue.project.cache.RedisCache`): one client per connection pool, and counters
in one round trip that lose no count."""

import asyncio
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


def test_async_code_has_one_client_per_event_loop_closed_with_the_loop():
    # The rate limits' async calls (mrblue.shared.rate_counts) reach Redis without the sync thread.
    from mrblue.shared.rate_counts import async_client

    backend = cache._cache
    server, options = cache._servers[0], cache._options

    async def clients():
        first, again = async_client(server, options), async_client(server, options)
        return first, again, await first.client_id()

    loop = asyncio.new_event_loop()
    first, again, client_id = loop.run_until_complete(clients())
    other_loop = asyncio.new_event_loop()
    other, _, _ = other_loop.run_until_complete(clients())
    assert first is again and other is not first
    listed = backend.get_client(write=True).client_list(client_id=[client_id])
    assert [entry["id"] for entry in listed] == [str(client_id)]
    loop.close()
    other_loop.close()
    assert backend.get_client(write=True).client_list(client_id=[client_id]) == []

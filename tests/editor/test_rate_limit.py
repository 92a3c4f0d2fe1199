"""The sliding-window limiter behind every rate limit (mints, page tools, log messages), and
the leases the log sockets take of it."""

import asyncio
import os
import threading

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache

from mrblue.shared.rate_limits import Lease, RateLimiter, windows_until_allowed

pytestmark = [pytest.mark.django_db]
MINUTE = 60 * 29_000_000  # a whole minute, as a clock reading


def test_a_burst_across_a_minute_boundary_is_still_limited(settings):
    settings.MRBLUE_MINT_RATE_PER_MINUTE = 2
    limiter = RateLimiter("MRBLUE_MINT_RATE_PER_MINUTE")
    assert limiter.hit("across", MINUTE - 1) is None
    assert limiter.hit("across", MINUTE - 0.5) is None
    # A fixed window would start counting afresh here.
    assert limiter.hit("across", MINUTE + 0.5) is not None


def test_last_minutes_hits_fade_out_over_this_minute(settings):
    settings.MRBLUE_MINT_RATE_PER_MINUTE = 2
    limiter = RateLimiter("MRBLUE_MINT_RATE_PER_MINUTE")
    limiter.hit("fade", MINUTE - 1)
    limiter.hit("fade", MINUTE - 1)
    wait = limiter.hit("fade", MINUTE + 10)
    assert wait is not None
    # Waiting as told lets the next hit through (the refused one above counts too).
    assert limiter.hit("fade", MINUTE + 10 + wait + 0.01) is None


def test_keys_are_counted_apart(settings):
    settings.MRBLUE_MINT_RATE_PER_MINUTE = 1
    limiter = RateLimiter("MRBLUE_MINT_RATE_PER_MINUTE")
    assert limiter.hit("alice", MINUTE) is None
    assert limiter.hit("bob", MINUTE) is None
    assert limiter.hit("alice", MINUTE + 1) is not None


@pytest.mark.parametrize(
    ("hits", "previous", "elapsed", "limit", "wait"),
    [
        (2, 0, 0.5, 2, None),  # within the limit
        (1, 4, 0.9, 2, None),  # 1 + 4 * (1 - 0.9) = 1.4
        (1, 4, 0.0, 3, 45),  # this minute: the next hit fits once 2 + 4 * (1 - f) <= 3, f = 3/4
        (3, 0, 0.5, 2, 70),  # full: next minute, once 1 + 3 * (1 - g) <= 2, g = 2/3
    ],
)
def test_windows_until_allowed(hits, previous, elapsed, limit, wait):
    windows = windows_until_allowed(hits, previous, elapsed, limit)
    assert (windows if windows is None else round(60 * windows)) == wait


def test_hits_count_in_blocks_over_any_window(settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 10
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=10)
    assert limiter.hit("blocks", 1000.0, count=5) is None
    assert limiter.hit("blocks", 1001.0, count=5) is None
    wait = limiter.hit("blocks", 1002.0, count=5)
    assert wait is not None and 0 < wait <= 20


@pytest.mark.django_db(transaction=True)  # the async calls use a connection of their own
@pytest.mark.usefixtures("close_async_connections")
async def test_hits_given_back_no_longer_count(settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 10
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=10)
    assert await limiter.ahit("lease", 1000.0, count=10) is None  # a lease of ten...
    await limiter.agive_back("lease", 7, 1000.0)  # ... of which three were used
    assert await limiter.ahit("lease", 1001.0, count=7) is None
    assert await limiter.ahit("lease", 1002.0) is not None
    await limiter.agive_back("gone", 5, 1000.0)  # nothing counted there: nothing to do


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_a_lease_grows_while_used_and_gives_back_what_it_did_not_use(settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 100
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    lease = Lease(limiter, "growing", share=10)
    for _ in range(7):
        assert await lease.atake() is None
    assert await sync_to_async(limiter.counted)("growing") == 7  # leases of 1, 2 and 4
    assert await lease.atake() is None  # a lease of 8, one of them used
    await lease.arelease()
    assert await sync_to_async(limiter.counted)("growing") == 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_a_refused_lease_takes_nothing(settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 2
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    first, second = Lease(limiter, "full"), Lease(limiter, "full")
    assert await first.atake() is None and await first.atake() is None
    assert await second.atake() is not None
    assert await sync_to_async(limiter.counted)("full") == 2


@pytest.fixture
def database_cache(settings):
    """The embedded default's cache (Django's database cache, `MAX_ENTRIES` 300), whatever
    this run's settings chose, under the test's own key prefix."""
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    settings.CACHES = {
        "default": {
            "BACKEND": "mrblue.project.cache.SharedDatabaseCache",
            "LOCATION": "mrblue_cache",
            "KEY_PREFIX": prefix,
        }
    }


def test_counts_survive_the_database_caches_culling(database_cache, settings):
    settings.MRBLUE_MINT_RATE_PER_MINUTE = 5
    limiter = RateLimiter("MRBLUE_MINT_RATE_PER_MINUTE")
    assert limiter.hit("culled", MINUTE, count=5) is None
    # Past MAX_ENTRIES the cache deletes a third of its entries, the first by key: other keys
    # that sort after the counts', as any key may.
    for n in range(400):
        cache.set(f"v:{n:04}", n)
    assert cache.get("v:0000") is None  # culling happened
    assert limiter.counted("culled", MINUTE + 1) == 5
    assert limiter.hit("culled", MINUTE + 1) is not None


def _backends():
    yield "database"
    redis_url = os.environ.get("REDIS_URL")
    yield pytest.param(
        "redis", marks=pytest.mark.skipif(not redis_url, reason="Redis is not configured")
    )


def use_counts_in(name: str, settings) -> str:
    """Configure the cache whose counts the limiter uses: the database's or Redis."""
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    if name == "database":
        config = {"BACKEND": "mrblue.project.cache.SharedDatabaseCache", "LOCATION": "mrblue_cache"}
    else:
        config = {
            "BACKEND": "mrblue.project.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": {"socket_timeout": 5, "socket_connect_timeout": 5},
        }
    settings.CACHES = {"default": {**config, "KEY_PREFIX": prefix}}
    return name


@pytest.fixture(params=_backends())
def backend(request, settings):
    """The counts in the database (the database cache configured), then in Redis."""
    return use_counts_in(request.param, settings)


def test_a_count_never_goes_below_zero(backend, settings):
    # A lease of five taken, its count lost (culled, a Redis restart), counting started again:
    # giving the old lease back must not leave room for more than the limit.
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 3
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    assert limiter.hit("lost", MINUTE) is None
    limiter.give_back("lost", 5, MINUTE)
    assert limiter.counted("lost", MINUTE) == 0
    assert [limiter.hit("lost", MINUTE) for _ in range(4)][-1] is not None  # 3 fit, not 8
    limiter.give_back("nothing", 5, MINUTE)  # nothing counted: still nothing
    assert limiter.counted("nothing", MINUTE) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_a_count_never_goes_below_zero_from_async_code(backend, settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 3
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    assert await limiter.ahit("lost", MINUTE) is None
    await limiter.agive_back("lost", 5, MINUTE)
    assert await sync_to_async(limiter.counted)("lost", MINUTE) == 0
    waits = [await limiter.ahit("lost", MINUTE) for _ in range(4)]
    assert waits[:3] == [None] * 3 and waits[3] is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_sync_and_async_hits_count_the_same_keys(backend, settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 100
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    await limiter.ahit("both", MINUTE, count=3)
    await sync_to_async(limiter.hit)("both", MINUTE, count=4)
    await limiter.agive_back("both", 2, MINUTE)
    await sync_to_async(limiter.give_back)("both", 1, MINUTE)
    assert await sync_to_async(limiter.counted)("both", MINUTE) == 4


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="Redis is not configured")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_with_redis_a_lease_does_not_wait_for_the_sync_thread(settings):
    # A hundred new sockets' first leases must not queue in asgiref's one sync thread, where
    # every other sync call of the process waits too: here it is busy until the lease is in.
    use_counts_in("redis", settings)
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 100
    lease = Lease(RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600), "storm")
    leased = threading.Event()
    busy = asyncio.ensure_future(sync_to_async(leased.wait)(10))
    try:
        assert await asyncio.wait_for(lease.atake(), 5) is None
        leased.set()
    finally:
        leased.set()
        assert await busy  # the sync thread was held until the lease came back
    await lease.arelease()

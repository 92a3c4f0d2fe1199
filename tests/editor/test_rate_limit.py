"""The sliding-window limiter behind every rate limit (mints, page tools, log messages), and
the leases the log sockets take of it."""

import pytest
from asgiref.sync import sync_to_async

from editor.ratelimit import Lease, RateLimiter, windows_until_allowed

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


@pytest.mark.django_db(transaction=True)  # the async cache calls use a connection of their own
async def test_hits_given_back_no_longer_count(settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 10
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=10)
    assert await limiter.ahit("lease", 1000.0, count=10) is None  # a lease of ten...
    await limiter.agive_back("lease", 7, 1000.0)  # ... of which three were used
    assert await limiter.ahit("lease", 1001.0, count=7) is None
    assert await limiter.ahit("lease", 1002.0) is not None
    await limiter.agive_back("gone", 5, 1000.0)  # nothing counted there: nothing to do


@pytest.mark.django_db(transaction=True)
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
async def test_a_refused_lease_takes_nothing(settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 2
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    first, second = Lease(limiter, "full"), Lease(limiter, "full")
    assert await first.atake() is None and await first.atake() is None
    assert await second.atake() is not None
    assert await sync_to_async(limiter.counted)("full") == 2

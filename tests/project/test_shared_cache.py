"""The rate limits' counts, shared by web processes: hits from several processes at once are
all counted (in the embedded default's table as in Redis), whether async code (the log socket:
Redis's async client) or sync code (the views) makes them."""

import os
import subprocess
import sys
import time
import uuid

import pytest

from mrblue.shared.rate_limits import RateLimiter
from tests.support.live import ROOT, shared_database_url

pytestmark = [pytest.mark.django_db(transaction=True)]
HITS = 400
# One web process's counting: as the log socket does it ("async"), or the views ("sync").
COUNTER = """
import asyncio, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.project.settings")
import django
django.setup()
from mrblue.shared.rate_limits import RateLimiter

limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
key, times, start_at, mode = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]

async def count():
    for _ in range(times):
        await limiter.ahit(key)

time.sleep(max(0.0, start_at - time.time()))  # all count at the same time
if mode == "async":
    asyncio.run(count())
else:
    for _ in range(times):
        limiter.hit(key)
"""
MODES = ("async", "async", "sync")


def test_processes_counting_at_once_lose_no_hit(settings):
    key = f"shared-{uuid.uuid4().hex}"
    env = {
        "DATABASE_URL": shared_database_url(),
        "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
        "MRBLUE_LOG_MESSAGES_PER_10S": str(10 * HITS),
    }
    started = time.time()
    start_at = str(started + 5)  # once all have started
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTER, key, str(HITS), start_at, mode],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        for mode in MODES
    ]
    assert [p.wait(120) for p in processes] == [0] * len(MODES)
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    ended = time.time()
    windows = {int(started // 3600): started, int(ended // 3600): ended}  # one, or two
    assert sum(limiter.counted(key, when) for when in windows.values()) == len(MODES) * HITS

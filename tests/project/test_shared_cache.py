"""The rate limits' counts, shared by web processes: hits from several processes at once are
all counted (in the embedded default's table as in Redis)."""

import os
import subprocess
import sys
import time
import uuid

import pytest

from editor.ratelimit import RateLimiter
from tests.support.live import ROOT, shared_database_url

pytestmark = [pytest.mark.django_db(transaction=True)]
HITS = 400
# One web process's counting, as the async views and the log socket do it.
COUNTER = """
import asyncio, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.settings")
import django
django.setup()
from editor.ratelimit import RateLimiter

async def count(key, times):
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    for _ in range(times):
        await limiter.ahit(key)

time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # both count at the same time
asyncio.run(count(sys.argv[1], int(sys.argv[2])))
"""


def test_two_processes_counting_at_once_lose_no_hit(settings):
    key = f"shared-{uuid.uuid4().hex}"
    env = {
        "DATABASE_URL": shared_database_url(),
        "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
        "MRBLUE_LOG_MESSAGES_PER_10S": str(10 * HITS),
    }
    started = time.time()
    start_at = str(started + 5)  # once both have started
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTER, key, str(HITS), start_at],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        for _ in range(2)
    ]
    assert [p.wait(120) for p in processes] == [0, 0]
    limiter = RateLimiter("MRBLUE_LOG_MESSAGES_PER_10S", window=3600)
    ended = time.time()
    windows = {int(started // 3600): started, int(ended // 3600): ended}  # one, or two
    assert sum(limiter.counted(key, when) for when in windows.values()) == 2 * HITS

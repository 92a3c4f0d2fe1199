"""The cache the rate limits count in, shared by web processes: counts from several processes
at once are all kept (the embedded default's table as much as Redis)."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.core.cache import cache

from tests.support.live import ROOT, shared_database_url

pytestmark = [pytest.mark.django_db(transaction=True)]
COUNTS = 400
# One web process's rate-limit counting, as the async views and the log socket do it.
COUNTER = """
import asyncio, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.settings")
import django
django.setup()
from django.core.cache import cache

async def count(key, times):
    for _ in range(times):
        await cache.aincr(key)

time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # both count at the same time
asyncio.run(count(sys.argv[1], int(sys.argv[2])))
"""


def test_two_processes_counting_at_once_lose_no_count(settings):
    key = f"shared-count-{uuid.uuid4().hex}"
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    cache.set(key, 0, timeout=600)
    env = {"DATABASE_URL": shared_database_url(), "CACHE_KEY_PREFIX": prefix}
    start_at = str(time.time() + 5)  # once both have started
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTER, key, str(COUNTS), start_at],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        for _ in range(2)
    ]
    assert [p.wait(120) for p in processes] == [0, 0]
    assert cache.get(key) == 2 * COUNTS

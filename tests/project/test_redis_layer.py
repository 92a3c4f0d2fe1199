"""The Redis channel layer keeps an idle receive waiting (redis-py 8 would time it out)."""

import asyncio
import os

import pytest
from channels.layers import get_channel_layer

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the Redis channel layer is not configured"
)


async def test_an_idle_receive_outlives_redis_py_8s_default_read_timeout():
    # redis-py 8 reads with a 5 s timeout, no longer than channels-redis' 5 s blocking pop:
    # an idle consumer died with redis' TimeoutError ("Timeout reading"). With the read
    # timeout the settings give, only our own deadline ends the wait.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=11)
    await layer.send(channel, {"type": "ping"})
    assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "ping"}
    await layer.flush()

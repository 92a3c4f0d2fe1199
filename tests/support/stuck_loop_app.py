"""The product's ASGI application, with one path more for tests: `POST /__test__/block-loop
?seconds=N` blocks the server's event loop for N seconds without using CPU (a `time.sleep` on
the loop, as a deadlock or a blocking call would), then answers 204.

Only tests start a worker with it (`Cluster(worker_app=STUCK_LOOP_APP)`): the product has no
such path. Everything else goes to the worker's `mrblue.engine.asgi.application` unchanged, so
the worker is the real one (its heartbeat thread, its directory record, its endpoints).
"""

import time
from urllib.parse import parse_qs

from mrblue.engine.asgi import application as product  # loading it starts the worker
from tests.support.workers import BLOCK_PATH


async def application(scope, receive, send):
    """The product's app, but for `BLOCK_PATH`."""
    if scope["type"] != "http" or scope["path"] != BLOCK_PATH:
        return await product(scope, receive, send)
    seconds = float(parse_qs(scope["query_string"].decode())["seconds"][0])
    time.sleep(seconds)  # on the loop, on purpose: nothing else runs on it meanwhile
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})

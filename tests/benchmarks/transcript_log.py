"""Benchmark: transcript-log messages stored and acknowledged per second, vs. a bare echo.

    .venv/bin/python -m tests.benchmarks.transcript_log [--clients 1,10,100] [--messages 50]

Each client holds its own conversation's socket and sends transcript messages one after the
other, waiting for each ack. The same clients then talk to an echo socket on the same server
(same auth and origin checks, no storage): the ceiling of Daphne + Channels here.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def percentile(values, q):
    """The q-quantile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def client(url, cookie, origin, messages, latencies):
    import websockets

    async with websockets.connect(
        url, additional_headers={"Cookie": cookie, "Origin": origin}
    ) as ws:
        for seq in range(messages):
            message = {
                "type": "transcript",
                "seq": seq,
                "item_id": f"item_{seq}",
                "role": "user",
                "text": f"Sentence number {seq}.",
                "final": True,
            }
            started = time.perf_counter()
            await ws.send(json.dumps(message))
            reply = json.loads(await ws.recv())
            assert reply.get("type") == "ack", reply
            latencies.append((time.perf_counter() - started) * 1000)


async def run(server, cookies, conversations, path, messages):
    latencies = []
    origin = server.url
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client(
                server.url.replace("http", "ws") + path.format(c),
                cookie,
                origin,
                messages,
                latencies,
            )
            for c, cookie in zip(conversations, cookies, strict=True)
        )
    )
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)


def main(argv=None):
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,10,100")
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="mrblue-logbench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from editor.models import Page
    from mrblue.models import Conversation
    from tests.support.live import LiveServer

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    page, _ = Page.objects.get_or_create(slug="bench", defaults={"title": "Bench"})
    server = LiveServer(
        database_url=os.environ["DATABASE_URL"], app="tests.benchmarks.echo_asgi:application"
    )
    print(
        f"database: {os.environ['DATABASE_URL'].split(':')[0]}; "
        f"{args.messages} messages per client, one at a time"
    )
    print(f"{'clients':>7} {'stack':>6} {'msg/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
    try:
        for count in (int(c) for c in args.clients.split(",")):
            conversations, cookies = [], []
            for _ in range(count):
                conversations.append(
                    Conversation.objects.create(
                        user=user,
                        page=page,
                        page_title="Bench",
                        provider="local",
                        model="m",
                        session={},
                    ).pk
                )
                session = SessionStore()
                session["_auth_user_id"] = str(user.pk)
                session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
                session["_auth_user_hash"] = user.get_session_auth_hash()
                session.save()
                cookies.append(f"sessionid={session.session_key}")
            for label, path in (("log", "/ws/mrblue/conversations/{}/"), ("echo", "/ws/echo/{}/")):
                rate, p50, p99 = asyncio.run(
                    run(server, cookies, conversations, path, args.messages)
                )
                print(f"{count:>7} {label:>6} {rate:>8.0f} {p50:>7.1f} {p99:>7.1f}")
    except Exception:
        print("".join(server.output), file=sys.stderr)
        raise
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: transcript-log messages stored and acknowledged per second, vs. a bare echo.

    .venv/bin/python -m tests.benchmarks.transcript_log [--clients 1,10,100] [--messages 50]
        [--storm 100] [--stacks sqlite,postgres] [--postgres URL] [--redis URL] [--json PATH]
        [--quick]

Each client is its own user with its own conversation's socket, and sends transcript messages
one after the other, waiting for each ack. The same clients then talk to an echo socket on the
same server (same auth and origin checks, no storage): the ceiling of Daphne + Channels here.
Those sockets are opened ten at a time before the clock starts. The "reconnect storm" row
(`--storm N`, 0 for none) is what a deploy brings instead: N new clients open their sockets all
at once and each sends as soon as its own is open, the clock running from the first connect to
the last ack; a handshake that misses Daphne's limit (refused after its 5 s
`--websocket_connect_timeout`) is counted and retried after 0.5 s, as the panel retries.
Each stack gets a server of its own, in one run, with `DEBUG=0` as in production:

- `sqlite`: the embedded default (SQLite in WAL mode, in-memory channel layer, database cache);
- `postgres`: PostgreSQL (a database the benchmark creates, and drops, on `--postgres`) with
  Redis (`--redis`, default `$REDIS_URL`; the stack is skipped without one) for the channel
  layer and the cache, and `DB_CONN_MAX_AGE=60` as in production.

`--quick` runs 1 and 100 clients with 10 messages each. `--json PATH` writes
`{"benchmark", "machine", "tables", "data"}`. `data`: `clients` [int], `log_msgs_per_s` and
`echo_msgs_per_s` [float] of the first stack run (what tests/benchmarks/report.py plots; not
the storm); `stacks` {stack: the same three lists}; `rows` [{"stack", "clients", "socket":
"log"|"echo", "msg_per_s", "p50_ms", "p99_ms", "web_cpu_us", "db_cpu_us", "storm" (bool),
"missed_handshakes"}] (CPU µs per message of the web
server's process, and of every PostgreSQL and Redis process: clients and servers share the
machine's cores, so a server's own cost is read from /proc); `latencies_ms`
{"<stack>/<socket>/<clients>" (`.../storm<N>` for the storm): every ack's latency in ms}.
"""

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.benchmarks.report import machine
from tests.benchmarks.stats import cpu_seconds, percentile

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["clients", "log msg/s", "log p50 ms", "log p99 ms", "echo msg/s", "echo p50 ms",
           "echo p99 ms", "log / echo", "log web µs", "log db µs", "echo web µs"]  # fmt: skip
DATABASE_PROCESSES = ("postgres", "redis-server")  # their CPU is the "db" column's
RECONNECT_AFTER_S = 0.5  # the panel's retry after a failed connect
MAX_ATTEMPTS = 20


async def client(ws, messages, latencies):
    """Send `messages` transcript lines, as the panel sends them, one at a time on an open
    socket, timing each ack."""
    for seq in range(messages):
        message = {
            "seq": seq,
            "type": "transcript",
            "item_id": f"item_{seq}",
            "role": "user",
            "text": f"Sentence number {seq}.",
            "final": True,
            "index": seq,  # the panel sends each line's place in the conversation
        }
        started = time.perf_counter()
        await ws.send(json.dumps(message))
        reply = json.loads(await ws.recv())
        assert reply.get("type") == "ack", reply
        latencies.append((time.perf_counter() - started) * 1000)


async def run(server_url, clients, path, messages):
    """Open every client's socket, then all send at once; (msg/s, p50, p99, latencies)."""
    import websockets

    # Opened a few at a time and before the clock starts: a handshake Daphne cannot finish
    # within its 5 s (a loaded machine, 100 at once) is dropped, and is not what is measured.
    opening = asyncio.Semaphore(10)

    async def open_one(conversation, cookie):
        async with opening:
            return await websockets.connect(
                server_url.replace("http", "ws") + path.format(conversation),
                additional_headers={"Cookie": cookie, "Origin": server_url},
            )

    sockets = await asyncio.gather(*(open_one(c, cookie) for c, cookie in clients))
    latencies = []
    try:
        started = time.perf_counter()
        await asyncio.gather(*(client(ws, messages, latencies) for ws in sockets))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    rate = len(latencies) / elapsed
    return rate, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies


async def storm(server_url, clients, path, messages):
    """Open every client's socket at once, each sending as soon as its own is open (a refused
    handshake is retried); (msg/s, p50, p99, latencies, missed handshakes)."""
    import websockets

    latencies, missed = [], []

    async def one(conversation, cookie):
        for _ in range(MAX_ATTEMPTS):
            try:
                ws = await websockets.connect(
                    server_url.replace("http", "ws") + path.format(conversation),
                    additional_headers={"Cookie": cookie, "Origin": server_url},
                )
            except (websockets.exceptions.WebSocketException, OSError, TimeoutError) as error:
                missed.append(repr(error))
                await asyncio.sleep(RECONNECT_AFTER_S)
                continue
            try:
                return await client(ws, messages, latencies)
            finally:
                await ws.close()
        raise RuntimeError(f"no handshake in {MAX_ATTEMPTS} attempts: {missed[-1]}")

    started = time.perf_counter()
    await asyncio.gather(*(one(c, cookie) for c, cookie in clients))
    elapsed = time.perf_counter() - started
    rate = len(latencies) / elapsed
    return rate, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies, len(missed)


def make_clients(count):
    """`count` users, each with a conversation and a logged-in session: [(pk, cookie)]."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from editor.models import Page
    from mrblue.models import Conversation

    page, _ = Page.objects.get_or_create(slug="bench", defaults={"title": "Bench"})
    made = []
    for _ in range(count):
        user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:12]}")
        conversation = Conversation.objects.create(
            user=user, page=page, page_title="Bench", provider="local", model="m", session={}
        )
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.save()
        made.append((conversation.pk, f"sessionid={session.session_key}"))
    return made


def measure_stack(counts, messages, storm_clients=0):
    """In a process configured for one stack: serve, measure, return rows and latencies."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from tests.support.live import LiveServer

    call_command("migrate", verbosity=0)
    server = LiveServer(
        database_url=os.environ["DATABASE_URL"],
        app="tests.benchmarks.echo_asgi:application",
        extra_env={"MRBLUE_LOG_MESSAGES_PER_10S": "1000000"},
    )
    rows, latencies = [], {}
    runs = [(count, False) for count in counts] + ([(storm_clients, True)] if storm_clients else [])
    try:
        for count, is_storm in runs:
            clients = make_clients(count)  # new users: a storm's first leases are their first
            for socket, path in SOCKETS:
                before = _cpu(server.process.pid)
                if is_storm:
                    rate, p50, p99, series, missed = asyncio.run(
                        storm(server.url, clients, path, messages)
                    )
                else:
                    rate, p50, p99, series = asyncio.run(run(server.url, clients, path, messages))
                    missed = 0
                web_s, db_s = _cpu_since(server.process.pid, before)
                per_message = 1e6 / len(series)
                rows.append({"clients": count, "socket": socket, "msg_per_s": round(rate, 1),
                             "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
                             "web_cpu_us": round(web_s * per_message),
                             "db_cpu_us": round(db_s * per_message),
                             "storm": is_storm, "missed_handshakes": missed})  # fmt: skip
                key = f"{socket}/storm{count}" if is_storm else f"{socket}/{count}"
                latencies[key] = [round(v, 3) for v in series]
    except Exception:
        noise = ("WSCONNECTING", "WSCONNECT ", "WSDISCONNECT")
        print("".join(line for line in server.output if not line.startswith(noise) and
                      not any(n in line for n in noise))[-8000:], file=sys.stderr)  # fmt: skip
        raise
    finally:
        server.close()
    return {"rows": rows, "latencies_ms": latencies}


SOCKETS = (("log", "/ws/mrblue/conversations/{}/"), ("echo", "/ws/echo/{}/"))


def _cpu(server_pid: int) -> tuple[float, dict[int, float]]:
    """CPU seconds so far of the web server, and of each database and Redis process."""
    database = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name in DATABASE_PROCESSES:
                database[int(entry.name)] = cpu_seconds(int(entry.name))
    return cpu_seconds(server_pid), database


def _cpu_since(server_pid: int, before) -> tuple[float, float]:
    """The web server's and the database processes' CPU seconds since `before` (`_cpu`): a
    process started meanwhile counts whole; one that ended meanwhile is not seen."""
    web, database = _cpu(server_pid)
    spent = sum(max(0.0, s - before[1].get(pid, 0.0)) for pid, s in database.items())
    return web - before[0], spent


def stack_environments(stacks, postgres, redis):
    """(name, env, cleanup) for each stack that can run here; prints why one cannot."""
    for stack in stacks:
        if stack == "sqlite":
            workdir = Path(tempfile.mkdtemp(prefix="mrblue-logbench-"))
            env = {"DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}", "REDIS_URL": ""}
            yield "SQLite", env, lambda: None
        elif stack == "postgres":
            if not redis:
                print("postgres: skipped (no --redis and no REDIS_URL)")
                continue
            name = f"mrblue_logbench_{uuid.uuid4().hex[:8]}"
            _postgres(postgres, f'CREATE DATABASE "{name}"')
            env = {"DATABASE_URL": f"{postgres}/{name}", "REDIS_URL": redis,
                   "DB_CONN_MAX_AGE": "60"}  # fmt: skip
            drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'  # a stray session too
            yield "PostgreSQL+Redis", env, lambda drop=drop: _postgres(postgres, drop)
        else:
            raise SystemExit(f"unknown stack {stack!r} (sqlite, postgres)")


def _postgres(server_url, statement):
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def main(argv=None):
    """Run the benchmark on every stack and print one table per stack."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,10,100")
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--storm", type=int, default=100, help="sockets opened at once; 0: none")
    parser.add_argument("--stacks", default="sqlite,postgres")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--quick", action="store_true", help="1 and 100 clients, 10 messages")
    parser.add_argument("--one-stack", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.messages = "1,100", 10
    counts = [int(c) for c in args.clients.split(",")]
    if args.one_stack:  # the child process of one stack: results on stdout's last line
        print(json.dumps(measure_stack(counts, args.messages, args.storm)))
        return 0
    tables, data = [], {"rows": [], "latencies_ms": {}}
    for stack, env, cleanup in stack_environments(
        args.stacks.split(","), args.postgres.rstrip("/"), args.redis
    ):
        try:
            result = _run_stack(env, counts, args.messages, args.storm)
        finally:
            cleanup()
        tables.append(_table(stack, result["rows"], args.messages))
        data["rows"] += [{"stack": stack, **row} for row in result["rows"]]
        data["latencies_ms"].update(
            {f"{stack}/{key}": series for key, series in result["latencies_ms"].items()}
        )
        _print(tables[-1])
    for stack, series in _series(data["rows"]).items():
        data.setdefault("stacks", {})[stack] = series
        for key, values in series.items():
            data.setdefault(key, values)
    if args.json:
        report = {"benchmark": "transcript_log", "machine": machine(), "tables": tables,
                  "data": data}  # fmt: skip
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


def _series(rows) -> dict:
    """Per stack, the client counts and both sockets' msg/s, as parallel lists."""
    stacks = {}
    for row in rows:
        if row.get("storm"):
            continue
        series = stacks.setdefault(
            row["stack"], {"clients": [], "log_msgs_per_s": [], "echo_msgs_per_s": []}
        )
        if row["clients"] not in series["clients"]:
            series["clients"].append(row["clients"])
        series[f"{row['socket']}_msgs_per_s"].append(row["msg_per_s"])
    return stacks


def _run_stack(env, counts, messages, storm_clients):
    # As in production: DEBUG off (Django then keeps no query log). The stack's process and
    # its server share the key that signs the clients' sessions.
    env = {**env, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(32)}
    command = [sys.executable, "-m", "tests.benchmarks.transcript_log", "--one-stack",
               "--clients", ",".join(map(str, counts)), "--messages", str(messages),
               "--storm", str(storm_clients)]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"the benchmark's server failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(stack, rows, messages):
    by_clients = {}
    for row in rows:
        label = f"{row['clients']} at once" if row.get("storm") else row["clients"]
        by_clients.setdefault(label, {})[row["socket"]] = row
    table_rows, notes = [], []
    for label, sockets in by_clients.items():
        log, echo = sockets["log"], sockets["echo"]
        if log.get("storm"):
            notes.append(
                f"{label}: handshakes that missed Daphne's limit (retried after"
                f" {RECONNECT_AFTER_S} s): log {log['missed_handshakes']}, echo"
                f" {echo['missed_handshakes']}; log/echo p99 {log['p99_ms'] / echo['p99_ms']:.1f}x"
            )
        table_rows.append([label, round(log["msg_per_s"]), log["p50_ms"], log["p99_ms"],
                           round(echo["msg_per_s"]), echo["p50_ms"], echo["p99_ms"],
                           f"{log['msg_per_s'] / echo['msg_per_s']:.0%}",
                           log["web_cpu_us"], log["db_cpu_us"], echo["web_cpu_us"]])  # fmt: skip
    caption = f"{stack}: {messages} messages per client, one at a time"
    if notes:
        caption += ". " + "; ".join(notes)
    return {"caption": caption, "columns": COLUMNS, "rows": table_rows}


def _print(table):
    print(table["caption"])
    print(" ".join(f"{c:>11}" for c in table["columns"]))
    for row in table["rows"]:
        print(" ".join(f"{v:>11}" for v in row))


if __name__ == "__main__":
    sys.exit(main())

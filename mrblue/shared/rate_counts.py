"""Where the rate limits' counts live (`mrblue.shared.rate_limits`): in Redis when Django's cache is
Redis, else in a table of their own (`editor.models.RateCount`), never in the database cache,
whose culling (Django's `MAX_ENTRIES`) deletes entries it needs room for, live counts too.

Each store adds hits to a window's count and reads the last window's in one step, and takes
hits back without ever going below zero (a count that was lost, e.g. to a Redis restart, and
has started again must not be pushed negative by an older lease's give-back). Both stores name
a count with the cache's own key (its `KEY_PREFIX` and version), so every process, and every
test with its own prefix, counts the same keys.

Redis is reached with the same scripts from sync code (the cache's client) and async code
(one `redis.asyncio` client per event loop, so a busy socket's lease never waits for the one
sync thread); the table is reached from a thread.
"""

import asyncio
import contextlib
import hashlib
import types
import weakref

from asgiref.sync import sync_to_async
from django.apps import apps
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router
from django.db.models import F
from django.db.models.functions import Greatest


def rate_count_model():
    """The counts' table: the editor app's `RateCount` (its migrations made it), looked up
    by label so this shared module imports no app."""
    return apps.get_model("editor", "RateCount")


# Expired rows are swept at most this often (seconds of the clock the hits are counted on).
SWEEP_EVERY_S = 60.0


def counts():
    """The store of the default cache's counts: `RedisCounts` or `TableCounts`."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        return RedisCounts(backend)
    return TableCounts(backend)


class TableCounts:
    """Counts in `editor.models.RateCount`: one upsert adds hits and returns the total."""

    def __init__(self, backend):
        self.backend = backend

    def add(self, current: str, previous: str, count: int, ttl: int, now: float):
        """Add `count` to `current`'s count (kept `ttl` seconds after `now`); return it and
        `previous`'s count."""
        name, before = self._name(current), self._name(previous)
        db = router.db_for_write(rate_count_model())
        connection = connections[db]
        quote = connection.ops.quote_name
        table, column = quote(rate_count_model()._meta.db_table), quote("count")
        with connection.cursor() as cursor:
            # One statement, atomic on SQLite and PostgreSQL alike: no read-then-write.
            cursor.execute(
                f"INSERT INTO {table} ({quote('name')}, {column}, {quote('expires')})"
                f" VALUES (%s, %s, %s) ON CONFLICT ({quote('name')})"
                f" DO UPDATE SET {column} = {table}.{column} + excluded.{column}"
                f" RETURNING {column}",
                [name, count, now + ttl],
            )
            hits = cursor.fetchone()[0]
        _sweep(db, now)
        return hits, self._count(before, db)

    async def aadd(self, current: str, previous: str, count: int, ttl: int, now: float):
        """`add`, in the sync thread."""
        return await sync_to_async(self.add)(current, previous, count, ttl, now)

    def take_back(self, key: str, count: int) -> None:
        """Take `count` hits off `key`'s count, down to zero at most (a guarded UPDATE)."""
        rate_count_model().objects.filter(name=self._name(key)).update(
            count=Greatest(F("count") - count, 0)
        )

    async def atake_back(self, key: str, count: int) -> None:
        """`take_back`, in the sync thread."""
        await sync_to_async(self.take_back)(key, count)

    def get(self, key: str) -> int:
        """`key`'s count now (0 if none)."""
        return self._count(self._name(key), router.db_for_read(rate_count_model()))

    def _name(self, key: str) -> str:
        return self.backend.make_and_validate_key(key)

    @staticmethod
    def _count(name: str, db: str) -> int:
        stored = (
            rate_count_model().objects.using(db).filter(name=name).values_list("count", flat=True)
        )
        return stored.first() or 0


_swept_at = {}  # database alias -> the clock reading of its last sweep


def _sweep(db: str, now: float) -> None:
    """Delete counts past their time, once every `SWEEP_EVERY_S` (a window's key never comes
    back, so its row is only garbage once it expired)."""
    if now - _swept_at.get(db, float("-inf")) < SWEEP_EVERY_S:
        return
    _swept_at[db] = now
    rate_count_model().objects.using(db).filter(expires__lt=now).delete()


class _Script:
    """A Lua script run by its SHA, sent whole only when Redis does not know it (yet, or any
    more after a restart)."""

    def __init__(self, text: str):
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    def run(self, client, keys: list, args: list):
        """Run it with a sync client."""
        from redis.exceptions import NoScriptError

        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return client.eval(self.text, len(keys), *keys, *args)

    async def arun(self, client, keys: list, args: list):
        """Run it with an async client."""
        from redis.exceptions import NoScriptError

        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.text, len(keys), *keys, *args)


# KEYS: this window's count, the last window's. ARGV: the hits to add, the seconds to keep the
# count. The first hit of a window sets its expiry; the same step reads the last window's.
_ADD = _Script(
    "local hits = redis.call('incrby', KEYS[1], ARGV[1])\n"
    "if redis.call('ttl', KEYS[1]) < 0 then redis.call('expire', KEYS[1], ARGV[2]) end\n"
    "return {hits, redis.call('get', KEYS[2])}"
)
# KEYS: a count. ARGV: the hits to take back: never more than it holds, so never below zero.
_TAKE_BACK = _Script(
    "local stored = tonumber(redis.call('get', KEYS[1]))\n"
    "if not stored then return nil end\n"
    "local back = math.min(stored, tonumber(ARGV[1]))\n"
    "if back <= 0 then return stored end\n"
    "return redis.call('decrby', KEYS[1], back)"
)


class RedisCounts:
    """Counts in Django's Redis cache, under its keys, each change one atomic script."""

    def __init__(self, backend: RedisCache):
        self.backend = backend

    def add(self, current: str, previous: str, count: int, ttl: int, now: float):
        """Add `count` to `current`'s count (kept `ttl` seconds from its first hit); return it
        and `previous`'s count. (`now` names the window only: Redis keeps the time.)"""
        keys = [self._name(current), self._name(previous)]
        hits, before = _ADD.run(self._client(), keys, [count, ttl])
        return int(hits), int(before or 0)

    async def aadd(self, current: str, previous: str, count: int, ttl: int, now: float):
        """`add` on this event loop's async client."""
        keys = [self._name(current), self._name(previous)]
        hits, before = await _ADD.arun(self._async_client(), keys, [count, ttl])
        return int(hits), int(before or 0)

    def take_back(self, key: str, count: int) -> None:
        """Take `count` hits off `key`'s count, down to zero at most."""
        _TAKE_BACK.run(self._client(), [self._name(key)], [count])

    async def atake_back(self, key: str, count: int) -> None:
        """`take_back` on this event loop's async client."""
        await _TAKE_BACK.arun(self._async_client(), [self._name(key)], [count])

    def get(self, key: str) -> int:
        """`key`'s count now (0 if none)."""
        return int(self._client().get(self._name(key)) or 0)

    def _name(self, key: str) -> str:
        return self.backend.make_and_validate_key(key)

    def _client(self):
        return self.backend._cache.get_client(write=True)

    def _async_client(self):
        # The first server is the one Django's cache writes to.
        return async_client(self.backend._servers[0], self.backend._options)


# Options of Django's Redis cache that name sync-only classes, or Django's own serializer.
_SYNC_ONLY_OPTIONS = {"pool_class", "parser_class", "serializer"}
_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> {key: client}


def async_client(server: str, options: dict):
    """The running loop's `redis.asyncio` client of `server` (made once per loop, with the
    cache's timeouts; closed when the loop closes)."""
    import redis.asyncio

    loop = asyncio.get_running_loop()
    clients = _async_clients.get(loop)
    if clients is None:
        clients = _async_clients[loop] = {}
        _close_clients_with(loop)
    pool_options = {k: v for k, v in options.items() if k not in _SYNC_ONLY_OPTIONS}
    key = (server, repr(sorted(pool_options.items())))
    client = clients.get(key)
    if client is None:
        client = clients[key] = redis.asyncio.Redis.from_url(server, **pool_options)
    return client


def _close_clients_with(loop) -> None:
    """Close the loop's clients just before the loop closes, while it can still run their
    goodbyes (asyncio has no hook for it; channels-redis wraps `loop.close` the same way)."""
    original = loop.close

    def close(self):
        clients = _async_clients.pop(self, {})
        for client in clients.values():
            with contextlib.suppress(Exception):  # a dead server: nothing left to close
                self.run_until_complete(client.aclose())
        self.close = original
        return original()

    loop.close = types.MethodType(close, loop)

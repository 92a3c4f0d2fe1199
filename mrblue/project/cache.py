"""The cache backends: the embedded default's (Django's database cache, with counters that two
web processes can share: Django's `incr` reads and writes in two steps, so two processes lose
counts), and Django's Redis cache without its per-call client. (The rate limits count in Redis
through this cache's client, or without Redis in a table of their own, never in the database
cache, whose culling drops entries: see `mrblue.shared.rate_counts`.)"""

from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connections, router, transaction

# The table the migration `0010_cache_table` creates; settings name it as the LOCATION.
TABLE = "mrblue_cache"


class SharedDatabaseCache(DatabaseCache):
    """`DatabaseCache` whose `incr`/`decr` hold the row's lock from read to write. (Django's
    async `aincr` reads and writes in two steps on every backend, Redis's too: counts that
    matter go through the sync calls.)"""

    def incr(self, key, delta=1, version=None):
        """Add `delta` to a stored number atomically; ValueError if the key is missing."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        cache_key = self.make_and_validate_key(key, version=version)
        with transaction.atomic(using=db):
            if connection.vendor != "sqlite":  # SQLite's IMMEDIATE transactions lock already
                table = connection.ops.quote_name(self._table)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",
                        [cache_key],
                    )
            return super().incr(key, delta, version)


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with one redis-py client per connection pool, not one per call.

    Django makes a `redis.Redis` for every cache call, and redis-py 8 builds all its response
    callbacks in each one (redis/redis-py#3624): more work than the call's own round trip.
    A client over a pool is safe to share between threads. `incr`/`decr` take one round trip.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool


# Django's `incr` asks whether the key exists, then adds: two round trips. This is one.
_INCR_IF_STORED = (
    "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end"
)


class _ClientPerPool(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # id of a connection pool (kept in self._pools) -> its client

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client

    def incr(self, key, delta):
        value = self.get_client(key, write=True).eval(_INCR_IF_STORED, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

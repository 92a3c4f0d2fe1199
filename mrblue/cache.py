"""The embedded default's cache: Django's database cache, with counters that two web processes
can share (Django's `incr` reads and writes in two steps, so two processes lose counts)."""

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction

# The table the migration `0010_cache_table` creates; settings name it as the LOCATION.
TABLE = "mrblue_cache"


class SharedDatabaseCache(DatabaseCache):
    """`DatabaseCache` whose `incr`/`decr` hold the row's lock from read to write. (Django's
    async `aincr` reads and writes in two steps on every backend, Redis's too: counts that
    matter go through the sync calls, as `editor.ratelimit` does.)"""

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

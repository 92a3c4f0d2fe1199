"""Where engine workers say they are alive and how loaded they are, and where gateways look.

Each worker publishes a `WorkerRecord` every heartbeat; a record unheard of for three beats is
gone (its worker died or hangs). The records live in Redis when `REDIS_URL` is set (a key per
worker that expires by itself), else in the database (the embedded default), under the pool
that `MRBLUE_ENGINE_POOL` names. Both backends are synchronous: callers on an event loop run
them in a thread.
"""

import json
import time
from dataclasses import asdict, dataclass
from functools import cache

from mrblue.engine.conf import engine_settings

BEATS_TO_DEAD = 3


@dataclass
class WorkerRecord:
    """One worker as it last said: where to reach it and how much it carries."""

    worker_id: str
    url: str
    load: float
    sessions: int
    capacity: int
    draining: bool = False
    pid: int = 0
    started_at: float = 0.0
    seen_at: float = 0.0
    capacity_reason: str = ""  # why this capacity (calibrated, or pinned); older workers: ""

    @property
    def placeable(self) -> bool:
        """Whether a gateway may offer it a new session."""
        return not self.draining and self.load < engine_settings.ENGINE_LOAD_THRESHOLD


def time_to_dead() -> float:
    """Seconds after which an unheard worker is taken for dead."""
    return BEATS_TO_DEAD * engine_settings.ENGINE_HEARTBEAT_SECONDS


class DatabaseDirectory:
    """Worker records as rows of `EngineWorker`."""

    def __init__(self, pool: str):
        self.pool = pool

    def publish(self, record: WorkerRecord) -> None:
        """Write (or refresh) a worker's record."""
        from mrblue.engine.models import EngineWorker

        fields = asdict(record)
        worker_id = fields.pop("worker_id")
        EngineWorker.objects.update_or_create(
            pool=self.pool, worker_id=worker_id, defaults={**fields, "seen_at": time.time()}
        )

    def remove(self, worker_id: str) -> None:
        """Take a worker out (it stopped cleanly)."""
        from mrblue.engine.models import EngineWorker

        EngineWorker.objects.filter(pool=self.pool, worker_id=worker_id).delete()

    def live(self) -> list[WorkerRecord]:
        """The workers heard from lately, least loaded first."""
        from mrblue.engine.models import EngineWorker

        since = time.time() - time_to_dead()
        rows = EngineWorker.objects.filter(pool=self.pool, seen_at__gte=since)
        return _by_load(row.record() for row in rows)


class RedisDirectory:
    """Worker records as Redis keys that expire after three beats, indexed by one set."""

    def __init__(self, pool: str, url: str):
        import redis

        self.pool = pool
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.index = f"mrblue:engine:{pool}:workers"

    def _key(self, worker_id: str) -> str:
        return f"mrblue:engine:{self.pool}:worker:{worker_id}"

    def publish(self, record: WorkerRecord) -> None:
        """Write (or refresh) a worker's record, expiring unless refreshed."""
        record.seen_at = time.time()
        ttl_ms = int(time_to_dead() * 1000)
        pipe = self.redis.pipeline()
        pipe.set(self._key(record.worker_id), json.dumps(asdict(record)), px=ttl_ms)
        pipe.sadd(self.index, record.worker_id)
        pipe.execute()

    def remove(self, worker_id: str) -> None:
        """Take a worker out (it stopped cleanly)."""
        self.redis.delete(self._key(worker_id))
        self.redis.srem(self.index, worker_id)

    def live(self) -> list[WorkerRecord]:
        """The workers whose records have not expired, least loaded first."""
        ids = sorted(member.decode() for member in self.redis.smembers(self.index))
        if not ids:
            return []
        values = self.redis.mget([self._key(worker_id) for worker_id in ids])
        gone = [worker_id for worker_id, value in zip(ids, values, strict=True) if value is None]
        if gone:
            self.redis.srem(self.index, *gone)
        return _by_load(WorkerRecord(**json.loads(value)) for value in values if value)


def _by_load(records) -> list[WorkerRecord]:
    return sorted(records, key=lambda record: (record.load, record.sessions, record.worker_id))


@cache
def _directory(pool: str, redis_url: str):
    return RedisDirectory(pool, redis_url) if redis_url else DatabaseDirectory(pool)


def directory() -> DatabaseDirectory | RedisDirectory:
    """The directory of this process's pool: Redis when `REDIS_URL` is set, else the database."""
    from django.conf import settings

    return _directory(engine_settings.ENGINE_POOL, getattr(settings, "REDIS_URL", "") or "")

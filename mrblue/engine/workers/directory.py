"""Where engine workers say they are alive and how loaded they are, and where gateways look.

Each worker publishes a `WorkerRecord` every heartbeat, signed with the engine key; a record
unheard of for three beats is gone (its worker died or hangs). The records live in Redis when
`REDIS_URL` is set (a key per worker that expires by itself), else in the database (the
embedded default), under the pool that `MRBLUE_ENGINE_POOL` names. Both backends are
synchronous: callers on an event loop run them in a thread.

The directory is not a trust boundary: whoever can write to Redis or the database could
otherwise send the engine key and every SDP offer to a URL of their choosing. A gateway uses a
record only if its signature, URL and fields check out (`WorkerRecord.from_published`); any
other is skipped and logged, never fatal, and fields it does not know are ignored (a rolling
upgrade may add some). Liveness is judged by one clock, the store's own: Redis expires the keys,
the database stamps and compares `seen_at` with its own `now()`.
"""

import hashlib
import hmac
import json
import logging
import math
import re
import time
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from mrblue.engine.engine_settings import engine_settings

logger = logging.getLogger("mrblue.engine.workers.directory")
BEATS_TO_DEAD = 3
SIGNATURE = "signature"  # the published record's field holding its HMAC
WORKER_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_URL_CHARS = 200
MAX_COUNT = 1_000_000  # sessions or capacity beyond this are nonsense, not a busy worker
MAX_REASON_CHARS = 2000
# Fields a record may lack (their defaults stand); a gateway needs every other one.
OPTIONAL_FIELDS = ("pid", "started_at", "capacity_reason")
SKIP_LOG_SECONDS = 60.0  # one warning per worker and reason this often, not one per mint


class BadRecord(ValueError):
    """A published record a gateway must not use: `worker_id` as it claims (for the log) and
    `reason` (never the key)."""

    def __init__(self, worker_id: str, reason: str):
        super().__init__(f"{worker_id!r}: {reason}")
        self.worker_id = worker_id
        self.reason = reason


@dataclass
class WorkerRecord:
    """One worker as it last said: where to reach it and how much it carries.

    `age` is not published: the directory reads it with its own clock (seconds since the record
    was last refreshed)."""

    worker_id: str
    url: str
    load: float
    sessions: int
    capacity: int
    draining: bool = False
    responsive: bool = True  # its event loop ran within the last few beats
    beat: int = 0  # how many records this worker has published, counting this one
    pid: int = 0
    started_at: float = 0.0
    capacity_reason: str = ""  # why this capacity (calibrated, or pinned); older workers: ""
    age: float = 0.0

    @property
    def placeable(self) -> bool:
        """Whether a gateway may offer it a new session."""
        return (
            self.responsive
            and not self.draining
            and self.load < engine_settings.ENGINE_LOAD_THRESHOLD
        )

    def signed(self, key: str) -> dict:
        """The record as its worker publishes it: its fields and their HMAC-SHA256 with `key`."""
        published = asdict(self)
        del published["age"]
        return {**published, SIGNATURE: sign(published, key)}

    @classmethod
    def from_published(cls, data, key: str) -> "WorkerRecord | None":
        """The record `data` says, if it is signed with `key` and well formed; else None."""
        try:
            return read_published(data, key)
        except BadRecord:
            return None


def sign(published: dict, key: str) -> str:
    """The HMAC-SHA256 (hex) of a record's canonical JSON (sorted keys, no spaces, ASCII)."""
    canonical = json.dumps(
        published, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def read_published(data, key: str) -> WorkerRecord:
    """The record a published `data` says, or `BadRecord` saying why it may not be used: a
    missing or wrong signature, a URL a worker would not have (not http/https, with
    credentials, a path, a query or a fragment), a field of the wrong type or out of range.
    Fields it does not know are ignored (they are covered by the signature all the same)."""
    if not isinstance(data, dict):
        raise BadRecord("?", "not a JSON object")
    claimed = data.get("worker_id")
    worker_id = claimed[:64] if isinstance(claimed, str) else "?"
    signature = data.get(SIGNATURE)
    if not isinstance(signature, str):
        raise BadRecord(worker_id, "unsigned")
    try:
        expected = sign({k: v for k, v in data.items() if k != SIGNATURE}, key)
    except ValueError:  # NaN or infinity somewhere: not what a worker writes
        raise BadRecord(worker_id, "not canonical JSON") from None
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise BadRecord(worker_id, "bad signature")
    values = {}
    for field in fields(WorkerRecord):
        if field.name == "age":
            continue
        if field.name not in data:
            if field.name in OPTIONAL_FIELDS:
                continue
            raise BadRecord(worker_id, f"no {field.name}")
        values[field.name] = _checked(field.name, data[field.name], worker_id)
    return WorkerRecord(**values)


def _checked(name: str, value, worker_id: str):
    """`value` if it is what a worker publishes as `name`, else BadRecord."""
    if name == "worker_id":
        ok = isinstance(value, str) and WORKER_ID.fullmatch(value) is not None
    elif name == "url":
        ok = isinstance(value, str) and _is_worker_url(value)
    elif name in ("draining", "responsive"):
        ok = isinstance(value, bool)
    elif name in ("sessions", "capacity", "beat", "pid"):
        bound = MAX_COUNT if name in ("sessions", "capacity") else 2**63
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < bound
    elif name == "load":
        ok = _is_number(value) and 0.0 <= value <= 1.0
    elif name == "capacity_reason":
        ok = isinstance(value, str) and len(value) <= MAX_REASON_CHARS
    else:  # started_at
        ok = _is_number(value) and value >= 0
    if not ok:
        raise BadRecord(worker_id, f"bad {name}")
    return float(value) if name in ("load", "started_at") else value


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_worker_url(url: str) -> bool:
    """Whether `url` is a worker's base URL: http(s)://host[:port], nothing more."""
    if len(url) > MAX_URL_CHARS or not url.isprintable() or any(c in url for c in " ?#@\\"):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a port that is no port)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.path == ""
        and not parts.query
        and not parts.fragment
    )


_skips_logged: dict[tuple[str, str], float] = {}


def _skip(bad: BadRecord) -> None:
    """Log a skipped record: a warning naming the worker id it claims, once a minute at most
    for the same worker and reason (every mint reads the directory)."""
    now = time.monotonic()
    if len(_skips_logged) > 1000:  # ids are whatever a bad record claims: keep this bounded
        _skips_logged.clear()
    if now - _skips_logged.get((bad.worker_id, bad.reason), -math.inf) < SKIP_LOG_SECONDS:
        return
    _skips_logged[(bad.worker_id, bad.reason)] = now
    logger.warning("engine worker record %r skipped: %s", bad.worker_id, bad.reason)


def _trusted(text, worker_id: str, age: float) -> WorkerRecord | None:
    """The record stored as `text` under `worker_id`, with its `age`, if a gateway may use it."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        _skip(BadRecord(worker_id, "not JSON"))
        return None
    try:
        record = read_published(data, engine_settings.ENGINE_API_KEY)
        if record.worker_id != worker_id:
            raise BadRecord(worker_id, "stored under another worker's id")
    except BadRecord as bad:
        _skip(bad)
        return None
    record.age = round(max(age, 0.0), 3)
    return record


def time_to_dead() -> float:
    """Seconds after which an unheard worker is taken for dead."""
    return BEATS_TO_DEAD * engine_settings.ENGINE_HEARTBEAT_SECONDS


def _published(record: WorkerRecord) -> str:
    return json.dumps(record.signed(engine_settings.ENGINE_API_KEY), separators=(",", ":"))


class DatabaseDirectory:
    """Worker records as rows of `EngineWorker`, stamped and judged by the database's clock."""

    PRUNE_EVERY_BEATS = 100  # rows of workers long dead are deleted now and then

    def __init__(self, pool: str):
        self.pool = pool

    def publish(self, record: WorkerRecord) -> None:
        """Write (or refresh) a worker's record, stamped with the database's `now()`."""
        from django.db import IntegrityError, transaction
        from django.db.models.functions import Now

        from mrblue.engine.models import EngineWorker

        mine = EngineWorker.objects.filter(pool=self.pool, worker_id=record.worker_id)
        fresh = {"published": _published(record), "seen_at": Now()}
        if not mine.update(**fresh):
            try:
                with transaction.atomic():
                    EngineWorker.objects.create(pool=self.pool, worker_id=record.worker_id, **fresh)
            except IntegrityError:  # written meanwhile (a drain's beat and the heartbeat's)
                mine.update(**fresh)
        if record.beat % self.PRUNE_EVERY_BEATS == 1:
            long_dead = Now() - timedelta(seconds=10 * time_to_dead())
            EngineWorker.objects.filter(pool=self.pool, seen_at__lt=long_dead).delete()

    def remove(self, worker_id: str) -> None:
        """Take a worker out (it stopped cleanly)."""
        from mrblue.engine.models import EngineWorker

        EngineWorker.objects.filter(pool=self.pool, worker_id=worker_id).delete()

    def live(self) -> list[WorkerRecord]:
        """The workers heard from lately by the database's clock, least loaded first."""
        from django.db.models.functions import Now

        from mrblue.engine.models import EngineWorker

        since = Now() - timedelta(seconds=time_to_dead())
        rows = (
            EngineWorker.objects.filter(pool=self.pool, seen_at__gte=since)
            .annotate(now=Now())
            .values_list("worker_id", "published", "seen_at", "now")
        )
        records = (
            _trusted(published, worker_id, (now - seen_at).total_seconds())
            for worker_id, published, seen_at, now in rows
        )
        return _by_load(record for record in records if record is not None)


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
        ttl_ms = int(time_to_dead() * 1000)
        pipe = self.redis.pipeline()
        pipe.set(self._key(record.worker_id), _published(record), px=ttl_ms)
        pipe.sadd(self.index, record.worker_id)
        pipe.execute()

    def remove(self, worker_id: str) -> None:
        """Take a worker out (it stopped cleanly)."""
        self.redis.delete(self._key(worker_id))
        self.redis.srem(self.index, worker_id)

    def live(self) -> list[WorkerRecord]:
        """The workers whose records have not expired (by Redis' clock), least loaded first."""
        members = self.redis.smembers(self.index)  # bytes: the client does not decode
        ids = sorted(member.decode(errors="replace") for member in members)  # type: ignore[union-attr]
        if not ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        pipe.mget([self._key(worker_id) for worker_id in ids])
        for worker_id in ids:
            pipe.pttl(self._key(worker_id))
        values, *ttls = pipe.execute()
        gone = [worker_id for worker_id, value in zip(ids, values, strict=True) if value is None]
        if gone:
            self.redis.srem(self.index, *gone)
        ttl = time_to_dead()
        records = (
            _trusted(value, worker_id, ttl - max(left, 0) / 1000)
            for worker_id, value, left in zip(ids, values, ttls, strict=True)
            if value is not None
        )
        return _by_load(record for record in records if record is not None)


def _by_load(records) -> list[WorkerRecord]:
    return sorted(records, key=lambda record: (record.load, record.sessions, record.worker_id))


@cache
def _directory(pool: str, redis_url: str):
    return RedisDirectory(pool, redis_url) if redis_url else DatabaseDirectory(pool)


def directory() -> DatabaseDirectory | RedisDirectory:
    """The directory of this process's pool: Redis when `REDIS_URL` is set, else the database."""
    from django.conf import settings

    return _directory(engine_settings.ENGINE_POOL, getattr(settings, "REDIS_URL", "") or "")

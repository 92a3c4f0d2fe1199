"""Client secrets of the built-in engine: stored only as hashes, with their session."""

import hashlib
import secrets
from datetime import timedelta

from django.db import models
from django.utils import timezone


def hash_secret(value: str) -> str:
    """The stored form of a secret (they are random and long, so a plain SHA-256 suffices)."""
    return hashlib.sha256(value.encode()).hexdigest()


class EngineClientSecret(models.Model):
    """An ephemeral `ek_` key: opens engine sessions with its session config until it expires."""

    key_hash = models.CharField(max_length=64, unique=True)
    session = models.JSONField()
    # Opaque tag of who the secret was minted for (the app names a user): bounds the live
    # sessions of one owner across all their secrets. Empty: no owner named.
    owner = models.CharField(max_length=128, blank=True, default="")
    # The engine worker that minted it and holds a place for its session (empty: this
    # process runs the engine itself). The gateway forwards the secret's calls there.
    worker = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "mrblue"
        verbose_name = "engine client secret"

    def __str__(self):
        return f"client secret …{self.key_hash[-6:]} (expires {self.expires_at:%H:%M:%S})"

    @classmethod
    @staticmethod
    def new_value() -> str:
        """A fresh secret value."""
        return "ek_" + secrets.token_urlsafe(32)

    @classmethod
    def mint(
        cls, session: dict, seconds: int, owner: str = "", worker: str = "", value: str = ""
    ) -> tuple[str, "EngineClientSecret"]:
        """Make a new secret (`value`, or a fresh one); return its value (shown once, never
        stored) and its row."""
        cls.objects.filter(expires_at__lt=timezone.now() - timedelta(hours=1)).delete()
        value = value or cls.new_value()
        row = cls.objects.create(
            key_hash=hash_secret(value),
            session=session,
            owner=owner,
            worker=worker,
            expires_at=timezone.now() + timedelta(seconds=seconds),
        )
        return value, row

    @classmethod
    def live(cls, value: str) -> "EngineClientSecret | None":
        """The row of a live secret, or None if unknown or expired."""
        return cls.objects.filter(
            key_hash=hash_secret(value), expires_at__gt=timezone.now()
        ).first()

    @classmethod
    def live_session(cls, value: str) -> dict | None:
        """The session config of a live secret, or None if unknown or expired."""
        row = cls.live(value)
        return row.session if row else None


class EngineWorker(models.Model):
    """An engine worker's last heartbeat (the directory's database backend; with Redis
    configured the records live there instead)."""

    pool = models.CharField(max_length=64)
    worker_id = models.CharField(max_length=64)
    url = models.CharField(max_length=200)
    load = models.FloatField()
    sessions = models.PositiveIntegerField()
    capacity = models.PositiveIntegerField()
    draining = models.BooleanField(default=False)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.FloatField(default=0.0)  # Unix time, as the Redis records keep it
    seen_at = models.FloatField(db_index=True)
    # Why the worker carries `capacity` (its calibration, or the setting that pins it). The
    # database's own default lets workers that predate it go on writing rows.
    capacity_reason = models.TextField(blank=True, default="", db_default="")

    class Meta:
        app_label = "mrblue"
        verbose_name = "engine worker"
        constraints = [
            models.UniqueConstraint(fields=["pool", "worker_id"], name="one_record_per_worker")
        ]

    def __str__(self):
        return f"worker {self.worker_id} ({self.url})"

    def record(self):
        """This row as a `WorkerRecord`."""
        from mrblue.engine.directory import WorkerRecord

        return WorkerRecord(
            worker_id=self.worker_id,
            url=self.url,
            load=self.load,
            sessions=self.sessions,
            capacity=self.capacity,
            draining=self.draining,
            pid=self.pid,
            started_at=self.started_at,
            seen_at=self.seen_at,
            capacity_reason=self.capacity_reason,
        )

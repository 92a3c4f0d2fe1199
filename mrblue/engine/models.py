"""The engine's tables: client secrets (stored only as hashes, with their session) and the
workers' heartbeat records (the directory's database backend)."""

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
        # The tables were made when these were the `mrblue` app's: they keep their names.
        db_table = "mrblue_engineclientsecret"
        verbose_name = "engine client secret"
        # The gateway sends an owner's mint to the worker of their newest secret.
        indexes = [models.Index(fields=["owner", "created_at"], name="engine_secret_owner_newest")]

    def __str__(self):
        return f"client secret …{self.key_hash[-6:]} (expires {self.expires_at:%H:%M:%S})"

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
    configured the records live there instead): the record as its worker signed it, and when
    it was last written by the database's own clock."""

    pool = models.CharField(max_length=64)
    worker_id = models.CharField(max_length=64)
    # The JSON the worker published, signature included (read by `directory.read_published`):
    # kept as written, so fields a newer worker adds need no column and still verify.
    published = models.TextField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "mrblue_engineworker"
        verbose_name = "engine worker"
        constraints = [
            models.UniqueConstraint(fields=["pool", "worker_id"], name="one_record_per_worker")
        ]

    def __str__(self):
        return f"worker {self.worker_id}"

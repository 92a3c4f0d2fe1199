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
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "mrblue"
        verbose_name = "engine client secret"

    def __str__(self):
        return f"client secret …{self.key_hash[-6:]} (expires {self.expires_at:%H:%M:%S})"

    @classmethod
    def mint(cls, session: dict, seconds: int, owner: str = "") -> tuple[str, "EngineClientSecret"]:
        """Make a new secret; return its value (shown once, never stored) and its row."""
        cls.objects.filter(expires_at__lt=timezone.now() - timedelta(hours=1)).delete()
        value = "ek_" + secrets.token_urlsafe(32)
        row = cls.objects.create(
            key_hash=hash_secret(value),
            session=session,
            owner=owner,
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

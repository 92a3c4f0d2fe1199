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
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "mrblue"
        verbose_name = "engine client secret"

    def __str__(self):
        return f"client secret …{self.key_hash[-6:]} (expires {self.expires_at:%H:%M:%S})"

    @classmethod
    def mint(cls, session: dict, seconds: int) -> tuple[str, "EngineClientSecret"]:
        """Make a new secret; return its value (shown once, never stored) and its row."""
        cls.objects.filter(expires_at__lt=timezone.now() - timedelta(hours=1)).delete()
        value = "ek_" + secrets.token_urlsafe(32)
        row = cls.objects.create(
            key_hash=hash_secret(value),
            session=session,
            expires_at=timezone.now() + timedelta(seconds=seconds),
        )
        return value, row

    @classmethod
    def live_session(cls, value: str) -> dict | None:
        """The session config of a live secret, or None if unknown or expired."""
        row = cls.objects.filter(key_hash=hash_secret(value), expires_at__gt=timezone.now()).first()
        return row.session if row else None

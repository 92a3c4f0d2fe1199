"""Strict validation of server events against the official SDK's own pydantic models."""

from openai.types.realtime import RealtimeServerEvent
from pydantic import BaseModel, TypeAdapter

_ADAPTER = TypeAdapter(RealtimeServerEvent)
# OpenAI's session objects carry these beside the request fields the SDK models them with.
_SESSION_EXTRAS = {"id", "object", "expires_at"}


def _extras(model: BaseModel, path: str) -> list[str]:
    found = []
    extra = set(model.model_extra or {})
    if path.endswith(".session"):
        extra -= _SESSION_EXTRAS
    found += [f"{path}.{name}" for name in sorted(extra)]
    for name in type(model).model_fields:
        found += _walk(getattr(model, name), f"{path}.{name}")
    return found


def _walk(value, path: str) -> list[str]:
    if isinstance(value, BaseModel):
        return _extras(value, path)
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _walk(v, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in _walk(v, f"{path}.{k}")]
    return []


def validate_server_event(event: dict):
    """Validate one server event; raise AssertionError naming any unknown field."""
    model = _ADAPTER.validate_python(event)
    unknown = _extras(model, event.get("type", "event"))
    assert not unknown, f"fields the SDK does not know: {unknown}"
    return model

"""Ids, server-event envelopes and protocol errors, as the Realtime API shapes them."""

import secrets
import string

from mrblue.shared.errors import CodedError

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """An id like OpenAI's: a prefix, an underscore and 21 random letters and digits."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(21))


def server_event(type_: str, **fields) -> dict:
    """A server event with a fresh `event_id`."""
    return {"type": type_, "event_id": new_id("event"), **fields}


class ProtocolError(CodedError):
    """A client mistake the session reports as an `error` event, then carries on."""

    def __init__(
        self,
        code: str,
        message: str,
        param: str | None = None,
        type_: str = "invalid_request_error",
    ):
        super().__init__(code, message)
        self.param = param
        self.type = type_

    def to_event(self, client_event_id: str | None = None) -> dict:
        """The `error` server event for this mistake, naming the client event that caused it."""
        return error_event(self.type, self.code, self.message, self.param, client_event_id)


def error_event(type_, code, message, param=None, client_event_id=None) -> dict:
    """An `error` server event."""
    return server_event(
        "error",
        error={
            "type": type_,
            "code": code,
            "message": message,
            "param": param,
            "event_id": client_event_id,
        },
    )

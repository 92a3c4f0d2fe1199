"""The live engine sessions of this process, to enforce the concurrency limit."""

from mrblue.engine.conf import engine_settings


class SessionRegistry:
    """A set of live sessions with a ceiling read from settings."""

    def __init__(self):
        self._live: set = set()

    def try_add(self, session) -> bool:
        """Register a session unless the limit is reached."""
        if len(self._live) >= engine_settings.ENGINE_MAX_SESSIONS:
            return False
        self._live.add(session)
        return True

    def discard(self, session) -> None:
        """Forget a session that ended."""
        self._live.discard(session)

    def __len__(self):
        return len(self._live)


sessions = SessionRegistry()

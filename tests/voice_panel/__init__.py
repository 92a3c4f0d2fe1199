"""The voice panel in Chromium against a live server and the engine."""

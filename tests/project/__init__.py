"""The project itself: its layout (import direction) and its settings."""

"""The OpenAI Realtime GA protocol's vocabulary, in one place: what the app and the engine share.

The engine imports nothing from the rest of the project; the app takes these names from here.
"""

VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")

"""The app's brains for the built-in engine: `commands`, the offline editor assistant.

It knows pages and blocks, so it lives with the app, not in the engine; `MrBlueConfig.ready()`
registers it with the engine under the name `commands` (`mrblue.engine.brains.register_brain`).
"""

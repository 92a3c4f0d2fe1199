"""The built-in realtime engine: the OpenAI Realtime GA protocol, served by Mr. Blue itself.

Layers, lowest first; a layer imports only from the layers before it (`tests/project/
test_layout.py` checks it), and the engine imports nothing from the rest of the project but
the shared plumbing (`mrblue.shared`). It is a Django app of its own (label `engine`, `apps`).

- `engine_settings`, `declared`, `models` (with `migrations/`): its settings, its stored client
  secrets and worker records.
- `protocol/`: the Realtime protocol as a state machine, no I/O: client events in, server
  events out (`protocol.core`), with the session configuration, conversation and responses.
- `brains/`: what writes the answers: the Brain interface, a registry of short names, and a
  brain for any chat-completions server (the app registers its own `commands` brain).
- `voice/`: the voice path: audio in, turn detection (with an end-of-turn model),
  recognition (and rescoring of candidate sentences), synthesis, audio out.
- `workers/`: an engine worker process: its models, its live sessions, its load and the
  fleet's directory where gateways find it.
- `transports/`: the thin I/O around a protocol core: the connection that drives it, the
  WebSocket and WebRTC transports, the HTTP endpoints and the gateway that forwards them.
- `urls`: which of those endpoints a process serves, as its role says; `asgi`: an engine
  worker process's application (the web processes run `mrblue.project.asgi`).
"""

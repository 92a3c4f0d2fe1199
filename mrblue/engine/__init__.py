"""The built-in realtime engine: the OpenAI Realtime GA protocol, served by Mr. Blue itself.

- `core`: the protocol as a state machine, no I/O (client events in, server events out).
- `config`, `items`, `fields`, `events`: the pieces `core` validates and builds with.
- `brains`: what answers: the Brain interface, a registry of short names, and a brain for any
  chat-completions server (the app registers its own `commands` brain).
- `connection`: the async adapter that drives a core with a brain for one transport.
- `secrets`, `http`, `consumer`: client secrets, the HTTP endpoints and the WebSocket.
"""

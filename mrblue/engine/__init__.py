"""The built-in realtime engine: the OpenAI Realtime GA protocol, served by Mr. Blue itself.

- `core`: the protocol as a state machine, no I/O (client events in, server events out).
- `config`, `items`, `fields`, `events`: the pieces `core` validates and builds with.
- `brains`: what answers (a deterministic editor assistant, or any chat-completions server).
- `connection`: the async adapter that drives a core with a brain for one transport.
- `secrets`, `http`, `consumer`: client secrets, the HTTP endpoints and the WebSocket.
"""

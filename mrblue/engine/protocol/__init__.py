"""The Realtime protocol, with no I/O: client events in, server events out.

`core.RealtimeSession` takes one parsed client event (or a voice or brain happening) and
returns a `Step`: the server events to send and what its owner should do next. The rest is
what it validates and builds with: `session_config` (the `session` object), `conversation`
and `items`, `responses`, `fields` and `events` (OpenAI's error codes and wording), `usage`,
`spoken` (which words a barge-in cut) and `spec` (the values the GA API documents).

Imports: the engine's settings only; no asyncio, sockets, threads or Django.
"""

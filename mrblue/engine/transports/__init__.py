"""The engine's I/O: thin adapters around one protocol core per session.

`connection.EngineConnection` drives a core with a brain and the voice path (`speaker`
takes the words of its answers to speech); `websocket`
(`/v1/realtime`) and `webrtc` (`/v1/realtime/calls`, with `sdp` checks and the data channel)
carry its events; `views` are the HTTP endpoints (client secrets, calls, speech, health);
`auth` says who may use them; `gateway` is the same endpoints in a web process that runs no
engine: it places each session on a worker and forwards.

Imports: anything in the engine below it (protocol, brains, voice, workers).
"""

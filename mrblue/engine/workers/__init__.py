"""An engine worker process and the fleet it belongs to.

`worker` is a worker's life: load the models, measure what it carries (`calibration`),
publish its load (`load`) and heartbeat to the `directory` where gateways look, admit
sessions into `live_sessions`, drain on SIGTERM.

Imports: the voice path (its models), the protocol and the engine's settings and models;
nothing of the transports, which call into the worker to admit a session.
"""

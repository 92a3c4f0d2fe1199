"""Mr. Blue: the assistant app (label `mrblue`), with the Django project and the engine inside.

- `project/`: the Django project: settings, ASGI, URLs, WebSocket routing, cache, the
  processes and the production kit. `bootstrap` (the README's commands) sits beside it.
- `engine/`: the built-in realtime engine (OpenAI Realtime GA); imports nothing of the app.
- `shared/`: plumbing the editor, the engine and the app share: errors, JSON input, limits.
- The app: `models` (profiles, page settings), `session` and `instructions` (what a call is
  started with), `providers` and `api` (minting), `commands_brain/` (the offline brain),
  `conversation_log/` (transcripts, stored exactly once), `insight` (what editors ask),
  `admin/` (where Mr. Blue is shaped).
"""

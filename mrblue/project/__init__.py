"""The Django project: how Mr. Blue runs, apart from what it does.

`settings` (read from the environment, declared in `mrblue.app_settings` and
`mrblue.engine.engine_settings`; `settings_doc` writes their docs), `asgi` with `urls` and
`routing` (WebSockets), `cache` (Redis or the database), `body_limit`; the processes:
`processes` (`serve`'s supervisor), `launch` (one Daphne process of a role), `privileges`
(the service user), `deploy/` (the production kit's files).
"""

"""The `commands` brain: the offline editor assistant of the built-in engine.

`brain` answers a turn: it reads the request (`intents`: a grammar with near-miss matching in
`matcher`), fits it onto the session's tools (`tool_args`) and speaks or calls them.
`page_words` are the words recognition should expect on a page. It knows pages and blocks,
so it lives with the app, not in the engine; `MrBlueConfig.ready()` registers it with the
engine under the name `commands` (`mrblue.engine.brains.register_brain`).
"""

"""The `commands` brain: the offline editor assistant of the built-in engine.

`brain` answers a turn: it reads the request (`intents`, with the table of phrasings in
`grammar`, the word lists of `lexicon`, block references in `references` and near-miss
matching in `matcher`), asks about what it may have misheard (`readings`: the page's
plausible requests, scored against the audio), and carries the request out on the page
(`page_actions`: the tool call, fitted to the session's tools by `tool_args`, and the words
that say it). `page_words` are the words recognition should expect on a page. It knows pages
and blocks, so it lives with the app, not in the engine; `MrBlueConfig.ready()` registers it
with the engine under the name `commands` (`mrblue.engine.brains.register_brain`).
"""

"""The conversation log: what each call's panel reports, stored exactly once.

`consumer` is the socket (`/ws/mrblue/conversations/<id>/`, its owner only); `store` checks
each message and stores it; `writer` commits the messages that arrive together in one
transaction; `models` are the tables (app `mrblue`); `costs` reads token usage and its price.
"""

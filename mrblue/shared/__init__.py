"""Plumbing every part shares: the editor, the engine and the app import it; it imports none.

`errors` (a code and a message; the JSON error answer), `json_input` (reading untrusted JSON),
`rate_limits` (sliding windows shared by every process) with their counts (`rate_counts`).
"""

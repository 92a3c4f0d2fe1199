"""Fuzzers for every input surface (hypothesis), driven through the public interfaces.

`pytest tests/fuzz` is the short, reproducible CI pass; `python -m tests.fuzz --inputs N` runs
every surface with at least N inputs and prints a table (see `tests/fuzz/__main__.py`).
"""

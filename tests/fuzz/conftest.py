"""Fixtures of the fuzzers: the error-log watch, and the report for `python -m tests.fuzz`."""

import pytest

from tests.fuzz.harness import ERROR_LOG, write_report


@pytest.fixture(scope="session", autouse=True)
def watch_error_logs():
    """Every fuzz test sees the ERROR records logged while it runs."""
    ERROR_LOG.install()
    yield
    ERROR_LOG.remove()
    write_report()

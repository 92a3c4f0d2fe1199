"""Fixtures of the fuzzers: the error-log watch, and the report for `python -m tests.fuzz`."""

import pytest
from django.test import Client

from tests.fuzz.harness import ERROR_LOG, write_report


@pytest.fixture(scope="session", autouse=True)
def watch_error_logs():
    """Every fuzz test sees the ERROR records logged while it runs."""
    ERROR_LOG.install()
    yield
    ERROR_LOG.remove()
    write_report()


@pytest.fixture
def editor_client(editor_user, make_page):
    """An editor logged in, with the page `fuzz`; a server error is answered, not raised."""
    make_page("fuzz", "Fuzz")
    client = Client(raise_request_exception=False)
    client.force_login(editor_user)
    return client

"""Fixtures shared by the engine's live tests."""

import pytest

from tests.support.live import serving


@pytest.fixture(scope="module")
def hanging_server(django_db_setup, django_db_blocker):
    """A server whose brain says one sentence, then waits until it is interrupted."""
    with serving(
        django_db_blocker, {"MRBLUE_ENGINE_BRAIN": "tests.support.brains.HangingBrain"}
    ) as server:
        yield server

"""Fixtures of the assistant's tests."""

import pytest

from tests.support.fake_openai_server import FakeOpenAI


@pytest.fixture
def fake_openai(settings):
    """The OpenAI provider, pointed at a stand-in that records what it is sent."""
    server = FakeOpenAI()
    settings.MRBLUE_REALTIME_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = server.url
    settings.OPENAI_API_KEY = "sk-good"
    yield server
    server.close()

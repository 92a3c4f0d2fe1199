"""One number for the largest client event: the engine's setting, and Daphne's limits."""

from mrblue import bootstrap
from mrblue.engine.engine_settings import declared_default, engine_settings


def test_bootstrap_reads_the_same_default_as_the_engine(tmp_path):
    assert (
        declared_default("MRBLUE_ENGINE_MAX_MESSAGE_BYTES") == bootstrap.DEFAULT_MAX_MESSAGE_BYTES
    )
    no_env_file = tmp_path / ".env"
    assert bootstrap.max_message_bytes({}, no_env_file) == engine_settings.ENGINE_MAX_MESSAGE_BYTES


def test_daphne_accepts_a_little_more_than_the_engine():
    flags = bootstrap.daphne_limits({"MRBLUE_ENGINE_MAX_MESSAGE_BYTES": "1000"})
    size = int(flags[flags.index("--websocket-max-message-size") + 1])
    assert size == int(flags[flags.index("--websocket-max-frame-size") + 1])
    assert size == 1000 + bootstrap.TRANSPORT_MARGIN_BYTES  # just over 1000 reaches the engine


def test_bootstrap_reads_the_limit_from_dot_env_too(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nMRBLUE_ENGINE_MAX_MESSAGE_BYTES='2048'\n")
    assert bootstrap.max_message_bytes({}, env_file) == 2048
    assert (
        bootstrap.max_message_bytes({"MRBLUE_ENGINE_MAX_MESSAGE_BYTES": "4096"}, env_file) == 4096
    )


def test_runserver_gets_the_same_daphne_limits():
    from django.conf import settings

    size = settings.MRBLUE_ENGINE_MAX_MESSAGE_BYTES + bootstrap.TRANSPORT_MARGIN_BYTES
    assert size == settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE
    assert size == settings.DAPHNE_WEBSOCKET_MAX_FRAME_SIZE

"""What the words say about turn-taking: a sentence that stops midway, and a short sound that
is (or is not) a request to stop, as Whisper writes them."""

import pytest

from mrblue.engine.voice.turn_words import SURE_LOGPROB, interrupts, unfinished


@pytest.mark.parametrize(
    "text",
    [
        "Change the title to...",
        "Change the title to, um...",
        "I want to add a",
        "Add a button that says",
        "Can you make the...",
        "make the heading blue and",
        "Put it into my",
    ],
)
def test_a_sentence_that_stops_midway_is_unfinished(text):
    assert unfinished(text)


@pytest.mark.parametrize(
    "text",
    [
        "Make the heading blue.",
        "make the heading blue,",  # Whisper's comma 64 ms into a pause is a guess
        "Turn it on.",
        "Undo that",
        "Delete the arm.",  # "Delete the, um," misheard: the model has the last word here
        "",
        None,
        "(coughs)",
    ],
)
def test_anything_else_is_left_to_the_end_of_turn_model(text):
    assert not unfinished(text)


@pytest.mark.parametrize("text", ["Stop.", "Wait.", "No.", "Hold on.", "Okay, stop."])
def test_a_short_word_that_asks_to_stop_interrupts(text):
    assert interrupts(text, seconds=0.3, logprob=-0.1)


@pytest.mark.parametrize(
    "text, seconds, logprob",
    [
        ("Yeah.", 0.3, -0.1),  # a backchannel
        ("Mm-hmm.", 0.3, -0.1),
        ("Okay.", 0.3, -0.1),
        ("Hmm.", 0.3, -0.47),
        ("M", 0.25, -1.0),  # piper's "Ahem."
        ("(coughs)", 0.3, -0.1),
        ("Thank you.", 0.3, -0.1),  # Whisper's words for noise
        ("And make an end.", 0.25, -0.1),  # four words in a quarter second: made up
        ("Damn.", 0.25, -0.49),  # a word, but Whisper is not sure of it
        ("", 0.3, 0.0),
    ],
)
def test_a_backchannel_a_noise_or_an_unsure_word_does_not(text, seconds, logprob):
    assert not interrupts(text, seconds=seconds, logprob=logprob)


def test_the_sureness_bar_is_where_the_measurements_put_it():
    assert -0.46 < SURE_LOGPROB < -0.14  # made-up words measured from -0.46, real ones to -0.14


async def test_whisper_hears_a_short_stop_surely_and_a_hum_not_as_words():
    from mrblue.engine.voice import speech
    from mrblue.engine.voice.audio import SPEECH_RATE, Resampler
    from tests.support.audio_fixtures import silence, spoken

    if not speech.tts_available():
        pytest.skip("piper is not installed")

    async def heard(text):
        pcm = Resampler(SPEECH_RATE).pcm(silence(0.15) + spoken(text) + silence(0.16), 24_000)
        return await speech.hear_interjection(pcm, "en")

    said, sure = await heard("Stop.")
    assert "stop" in said.lower() and interrupts(said, 0.3, sure)
    for sound in ("Hmm.", "Ahem."):
        said, sure = await heard(sound)
        assert not interrupts(said, 0.3, sure), (sound, said, sure)

"""Rescoring: Whisper's decoder scores sentences against real speech (espeak-ng and piper made
at test time, the packaged tiny.en), reusing the encoder output recognition computed."""

import pytest

from mrblue.engine.voice import speech
from mrblue.engine.voice.rescoring import Scorer, written
from tests.support.speakers import SPEAKERS, clip

BY_NAME = {s.name: s for s in SPEAKERS}


def heard_with_scorer(speaker: str, said: str) -> tuple[str, Scorer]:
    keep = {}
    heard = speech._transcribe(clip(BY_NAME[speaker], said), "en", keep=keep)
    return heard, keep["scorer"]


@pytest.mark.parametrize("speaker", ["piper", "espeak-us", "espeak-gb-f"])
def test_rescoring_picks_bottom_over_volume(speaker):
    _, scorer = heard_with_scorer(speaker, "Move the button to the bottom.")
    volume, bottom = scorer.score(
        ["move the button to the volume", "move the button to the bottom"]
    )
    assert bottom.logprob > volume.logprob + 3, (bottom, volume)
    assert len(bottom.probabilities) == len(bottom.pieces) > 0


def test_the_audio_chooses_among_readings_the_transcript_got_wrong():
    # espeak-ng's American voice is heard "Move them out in the month of the first
    # paragraph." by tiny.en; of the page's readings the audio supports the one said.
    heard, scorer = heard_with_scorer("espeak-us", "Move the button above the first paragraph.")
    assert "button" not in heard.lower()
    candidates = [
        "move the button above the first paragraph",
        "move the button below the first paragraph",
        "move the heading above the first paragraph",
        "move the second paragraph above the first paragraph",
    ]
    scores = scorer.score(candidates)
    assert max(scores, key=lambda s: s.logprob).sentence == candidates[0]


def test_a_scorer_is_kept_only_when_asked_and_holds_only_the_speech():
    pcm = clip(BY_NAME["espeak-us"], "Undo.")
    assert speech._transcribe(pcm, "en") == speech._transcribe(pcm, "en", keep={})
    keep = {}
    speech._transcribe(pcm, "en", keep=keep)
    scorer = keep["scorer"]
    seconds = len(pcm) / 2 / 16_000
    # Encoder frames are 20 ms: what is kept is the clip and half a second, not the window.
    assert scorer._encoded.shape[1] <= (seconds + 0.5) * 50 + 1
    assert scorer._frames == 2 * scorer._encoded.shape[1]


def test_scores_are_cached_and_timed():
    _, scorer = heard_with_scorer("espeak-us", "Undo.")
    first = scorer.score(["undo", "redo"])
    spent = scorer.seconds
    assert spent > 0
    assert scorer.score(["redo", "undo"]) == first[::-1]
    assert scorer.seconds == spent  # nothing scored again


def test_support_is_lower_for_words_the_audio_did_not_say():
    _, scorer = heard_with_scorer("piper", "Rename the button to festival.")
    said, misheard = scorer.score(
        ["rename the button to festival", "rename the button to testable"]
    )
    assert said.support("festival") > misheard.support("testable")
    assert said.support("not in the sentence") == 1.0


def test_sentences_are_scored_as_whisper_writes_them():
    assert written("move the button up") == " Move the button up."
    assert written("  Undo?") == " Undo?"
    assert written("") == ""

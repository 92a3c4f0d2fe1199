"""Lining an answer's audio up with its words: what a barge-in leaves of the transcript."""

from mrblue.engine.protocol.spoken import SpokenAudio, heard_words

ANSWER = "Sure, I changed the heading. Anything else?"
FIRST, SECOND = "Sure, I changed the heading.", "Anything else?"  # its clauses


def two_clauses_written_one_spoken() -> SpokenAudio:
    spoken = SpokenAudio()
    spoken.clause_started(FIRST)
    spoken.add_audio(1000)
    spoken.clause_spoken()
    spoken.clause_started(SECOND)  # written and sent, not yet synthesized
    return spoken


def test_words_not_yet_synthesized_were_not_heard():
    spoken = two_clauses_written_one_spoken()
    assert heard_words(ANSWER, spoken.heard(1000, ANSWER)) == FIRST


def test_within_a_clause_the_words_heard_follow_the_audio_played():
    spoken = two_clauses_written_one_spoken()
    assert heard_words(ANSWER, spoken.heard(600, ANSWER)) == "Sure, I changed"
    assert spoken.heard(0, ANSWER) == 0


def test_a_clause_being_synthesized_counts_as_far_as_its_audio_goes():
    spoken = two_clauses_written_one_spoken()
    spoken.add_audio(500)  # the second clause's audio so far, taken as all of it
    assert heard_words(ANSWER, spoken.heard(1500, ANSWER)) == ANSWER


def test_an_answer_heard_to_its_end_keeps_every_word_whatever_its_spacing():
    spaced = "Sure,  I changed the heading.\n\nAnything else? "
    spoken = two_clauses_written_one_spoken()
    spoken.add_audio(500)
    spoken.clause_spoken()
    assert heard_words(spaced, spoken.heard(1500, spaced)) == spaced.rstrip()


def test_without_clauses_the_audio_covers_the_whole_transcript():
    spoken = SpokenAudio()
    spoken.add_audio(1000)
    assert spoken.heard(500, "One two three four") == 8  # half its 15 letters, rounded
    assert heard_words("One two three four", spoken.heard(500, "One two three four")) == "One two"
    assert spoken.heard(1000, "One two three four") == 15


def test_a_cut_is_where_the_message_now_ends():
    spoken = two_clauses_written_one_spoken()
    spoken.cut(500, 12)
    assert spoken.audio_ms == 500
    assert spoken.heard(250, FIRST) == 6 and spoken.heard(500, FIRST) == 12


def test_no_half_heard_word():
    assert heard_words("One two three", 4) == "One"
    assert heard_words("One two three", 6) == "One two"
    assert heard_words("One two three", 2) == ""

"""Lining an answer's audio up with its words: what a barge-in leaves of the transcript."""

from mrblue.engine.spoken import SpokenAudio, heard_words

ANSWER = "Sure, I changed the heading. Anything else?"  # clauses: "Sure, I changed the heading."


def two_clauses_written_one_spoken() -> SpokenAudio:
    spoken = SpokenAudio()
    spoken.clause_started(len("Sure, I changed the heading."))
    spoken.add_audio(1000)
    spoken.clause_spoken()
    spoken.clause_started(len("Anything else?"))  # written and sent, not yet synthesized
    return spoken


def test_words_not_yet_synthesized_were_not_heard():
    spoken = two_clauses_written_one_spoken()
    chars = spoken.heard_chars(1000, len(ANSWER))
    assert heard_words(ANSWER, chars) == "Sure, I changed the heading."


def test_within_a_clause_the_words_heard_follow_the_audio_played():
    spoken = two_clauses_written_one_spoken()
    assert heard_words(ANSWER, spoken.heard_chars(600, len(ANSWER))) == "Sure, I changed"
    assert spoken.heard_chars(0, len(ANSWER)) == 0


def test_a_clause_being_synthesized_counts_as_far_as_its_audio_goes():
    spoken = two_clauses_written_one_spoken()
    spoken.add_audio(500)  # the second clause's audio so far, taken as all of it
    assert heard_words(ANSWER, spoken.heard_chars(1500, len(ANSWER))) == ANSWER


def test_without_clauses_the_audio_covers_the_whole_transcript():
    spoken = SpokenAudio()
    spoken.add_audio(1000)
    assert spoken.heard_chars(500, 40) == 20
    assert spoken.heard_chars(1000, 40) == 40


def test_a_cut_is_where_the_message_now_ends():
    spoken = two_clauses_written_one_spoken()
    spoken.cut(500, 15)
    assert spoken.audio_ms == 500
    assert spoken.heard_chars(250, 15) == 8 and spoken.heard_chars(500, 15) == 15


def test_no_half_heard_word():
    assert heard_words("One two three", 5) == "One"
    assert heard_words("One two three", 7) == "One two"
    assert heard_words("One two three", 2) == ""

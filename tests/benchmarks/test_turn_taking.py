"""The turn-taking benchmark's corpus and how it counts cut-offs (no server, no audio)."""

from tests.benchmarks.turn_taking import Request, corpus, summary


def test_each_request_of_the_corpus_ends_in_its_own_word_and_hesitations_have_a_pause():
    requests = [Request(kind, "piper", parts) for kind, parts in corpus()]
    closings = [request.closing for request in requests]
    assert len(set(closings)) == len(closings)
    kinds = {request.kind for request in requests}
    assert kinds == {"complete", "hesitant"}
    for request in requests:
        assert len(request.parts) == (2 if request.kind == "hesitant" else 1), request


def test_a_hesitant_request_answered_in_two_turns_counts_as_cut_off():
    complete = Request("complete", "piper", ("Make the heading blue.",))
    hesitant = Request("hesitant", "piper", ("Change the title to, um,", "Welcome home."))
    turns = [
        {"request": complete, "at": 0, "turn_end": 400, "heard": 700},
        {"request": None, "at": 10_000},  # "change the title to um": cut off ...
        {"request": hesitant, "at": 11_500, "heard": 900},  # ... then the rest
        {"request": None, "at": 20_000},  # noise long before the next request: not a cut
        {"request": hesitant, "at": 30_000, "heard": 800},
        {"request": complete, "at": 40_000},  # answered too late to be timed
    ]
    assert summary(turns) == {"heard": [700], "turn_end": [400], "hesitant": 2, "cut": 1}

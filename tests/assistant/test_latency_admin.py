"""Admins see latency: a chart per conversation, a slow-turn filter, a profile's median."""

import re

import pytest

from mrblue.admin.latency_chart import chart, medians, segments
from mrblue.conversation_log.store import store, validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client, make_user):
    client.force_login(make_user("root", superuser=True))
    return client


def log_turns(conversation, *turns, source="engine"):
    """Store each turn's stages as the panel logs them (validated, through the real store)."""
    for seq, stages in enumerate(turns):
        message = {"type": "timing", "seq": seq, "source": source, "stages": stages}
        assert store(conversation, validate(message))


FULL = {"speech_stopped": 500, "transcript": 700, "first_output": 900, "first_audio": 1300}


def test_the_conversation_page_draws_a_bar_per_turn(admin_client_for, make_conversation):
    conversation = make_conversation()
    log_turns(conversation, FULL, {**FULL, "first_audio": 2600}, {"first_output": 400})
    body = admin_client_for.get(f"/admin/mrblue/conversation/{conversation.pk}/change/")
    assert body.status_code == 200
    (svg,) = re.findall(r'<svg class="mrblue-latency-chart".*?</svg>', body.text, re.S)
    assert len(re.findall(r'<g class="mrblue-turn"', svg)) == 3
    assert len(re.findall(r"<rect ", svg)) == 4 + 4 + 1
    assert "first audio: 2600 ms (+1700 ms)" in svg
    assert 'text-anchor="end">2600 ms</text>' in svg  # the axis ends at the slowest turn
    assert ">400 ms</text>" in svg  # each bar says when its answer began
    assert "the built-in engine" in body.text and "<script" not in svg


def test_a_conversation_without_timings_says_so(admin_client_for, make_conversation):
    conversation = make_conversation()
    body = admin_client_for.get(f"/admin/mrblue/conversation/{conversation.pk}/change/")
    assert "mrblue-latency-chart" not in body.text and "No timed turns" in body.text


def test_the_slow_turn_filter_keeps_conversations_with_a_slow_turn(
    admin_client_for, make_conversation, make_page, make_user
):
    page, owner = make_page(), make_user("owner")
    made = {name: make_conversation(owner, page, page_title=name) for name in "ABCD"}
    log_turns(made["A"], {"first_audio": 800}, {"first_audio": 900})
    log_turns(made["B"], {"first_audio": 700}, {"first_audio": 2500})
    log_turns(made["C"], {"first_output": 3200}, source="panel")  # a text answer
    log_turns(made["D"], {"first_output": 3500, "first_audio": 1200})

    def listed(query=""):
        response = admin_client_for.get(f"/admin/mrblue/conversation/{query}")
        assert response.status_code == 200
        return sorted(c.page_title for c in response.context["cl"].result_list)

    assert listed() == ["A", "B", "C", "D"]
    assert listed("?slow_turn_ms=1000") == ["B", "C", "D"]
    assert listed("?slow_turn_ms=2000") == ["B", "C"]
    assert listed("?slow_turn_ms=3000") == ["C"]
    assert listed("?slow_turn_ms=5000") == []
    page = admin_client_for.get("/admin/mrblue/conversation/").text
    assert "a turn of 2 s or more" in page and "2.5 s" in page  # B's slowest turn, listed


def test_the_profile_page_shows_the_median_of_its_recent_conversations(
    admin_client_for, make_conversation, make_profile, make_page, make_user
):
    profile, other = make_profile(name="Fast"), make_profile(name="Slow")
    page, owner = make_page(), make_user("owner")
    log_turns(make_conversation(owner, page, profile=profile), {"first_audio": 1000}, FULL)
    log_turns(make_conversation(owner, page, profile=profile), {"first_audio": 3000})
    log_turns(make_conversation(owner, page, profile=other), {"first_audio": 9000})
    body = admin_client_for.get(f"/admin/mrblue/assistantprofile/{profile.pk}/change/").text
    assert '<span class="mrblue-median-latency">1300 ms</span>' in body
    assert "median of 3 turns in its latest 2 conversations" in body
    assert body.index("vad_silence_duration_ms") < body.index("mrblue-median-latency")
    unused = make_profile(name="Unused")
    body = admin_client_for.get(f"/admin/mrblue/assistantprofile/{unused.pk}/change/").text
    assert "No timed turns in its conversations yet." in body


def test_segments_run_from_stage_to_stage_and_never_backwards():
    pieces = segments({"first_audio": 900, "speech_stopped": 500, "transcript": 450})
    assert [(p["stage"], p["start"], p["ms"]) for p in pieces] == [
        ("speech_stopped", 0, 500),
        ("transcript", 500, 0),  # reported before speech_stopped: drawn as nothing
        ("first_audio", 500, 400),
    ]


def test_chart_scales_to_the_slowest_turn_and_medians_skip_missing_stages():
    drawn = chart([{"first_audio": 1000}, {"first_audio": 2000}])
    widths = [row["rects"][0]["width"] for row in drawn["rows"]]
    assert widths[1] == 2 * widths[0] and drawn["longest_ms"] == 2000
    assert medians([{"first_output": 300}, {"first_audio": 1000}, {"first_audio": 2000}]) == {
        "first_output": 300,
        "first_audio": 1500,
        "answer": 1000,
    }

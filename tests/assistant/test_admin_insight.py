"""What editors ask, for admins and editors: a page's insight on its change form, the
conversation list's page and outcome filters, and the editor's list of conversations with their
first words, length and edits. Conversations are logged through the real transcript log and
their edits made through the real page tools."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from editor.models import PageRevision
from mrblue.conversation_log.store import store, validate
from mrblue.insight import Edit, Line, Request, most_frequent, normalized, requests_of
from mrblue.insight_store import read_page_insight
from mrblue.models import Conversation
from tests.support.conversations import hold

pytestmark = pytest.mark.django_db
LIST = "/admin/mrblue/conversation/"
BLUE = ("update_style", {"block_id": "h1", "color": "blue"})
UNDO = ("undo", {})


@pytest.fixture
def admin_client_for(client, make_user):
    client.force_login(make_user("root", superuser=True))
    return client


@pytest.fixture
def talks(make_page, make_user):
    """Three conversations on "home" by two editors (an edit undone at once; an edit, a
    refusal and a question; a greeting) and one on "about" (a refusal)."""
    home, about = make_page(), make_page("about", "About")
    ana = make_user("ana", perms=("editor.change_page", "editor.view_page"))
    ben = make_user("ben", perms=("editor.change_page", "editor.view_page"))
    made = {
        "undone": hold(
            ana,
            home,
            ("Make the heading blue!", "Done: the heading is blue.", BLUE),
            ("Undo that", "Undone.", UNDO),
            timings=(800, 1000),
        ),
        "mixed": hold(
            ben,
            home,
            ("make the heading blue", "Done.", BLUE),
            ("Dance for me", "Sorry, I can't help with that offline. I can edit this page."),
            ("Change the text", "Which one: the heading or the paragraph?"),
            timings=(600,),
        ),
        # A question inside an answer that ends otherwise is no question back.
        "greeting": hold(ana, home, ("Hello", "Hi! What shall we change? Tell me.")),
        "about": hold(ben, about, ("Sing", "I can't do singing here.")),
    }
    return home, about, ana, made


def listed(client, query=""):
    response = client.get(f"{LIST}{query}")
    assert response.status_code == 200
    return sorted(c.pk for c in response.context["cl"].result_list)


def test_the_list_filters_by_outcome(admin_client_for, talks):
    home, about, _, made = talks
    pks = {name: c.pk for name, c in made.items()}

    def expect(*names):
        return sorted(pks[name] for name in names)

    assert listed(admin_client_for, "?outcome=changed") == expect("undone", "mixed")
    assert listed(admin_client_for, "?outcome=undone") == expect("undone")
    assert listed(admin_client_for, "?outcome=refused") == expect("mixed", "about")
    assert listed(admin_client_for, "?outcome=asked") == expect("mixed")
    assert listed(admin_client_for, "?outcome=unchanged") == expect("greeting", "about")
    assert listed(admin_client_for, "?outcome=bogus") == []


def test_the_list_filters_by_page_and_outcome_together(admin_client_for, talks):
    home, about, _, made = talks
    everything = listed(admin_client_for)
    assert len(everything) == 4
    assert listed(admin_client_for, f"?page__id__exact={about.pk}") == [made["about"].pk]
    on_home = listed(admin_client_for, f"?page__id__exact={home.pk}&outcome=refused")
    assert on_home == [made["mixed"].pk]
    page = admin_client_for.get(LIST).text
    assert "By outcome" in page and "By page" in page and "Mr. Blue asked back" in page


def test_an_edit_undone_after_a_minute_is_not_got_wrong(admin_client_for, talks):
    home, _, _, made = talks
    edit = PageRevision.objects.get(kind="edit", call_id=f"call_{made['undone'].pk}_0_0")
    PageRevision.objects.filter(pk=edit.pk).update(undone_at=edit.created_at + timedelta(minutes=5))
    assert listed(admin_client_for, "?outcome=undone") == []
    insight = read_page_insight(home)
    assert insight.count("undone") == 0 and insight.count("changed") == 2


def test_the_page_form_shows_how_editors_use_mr_blue_there(admin_client_for, talks):
    home, _, _, made = talks
    body = admin_client_for.get(f"/admin/editor/page/{home.pk}/change/").text
    (section,) = re.findall(r'<div class="mrblue-insight".*?\n</div>', body, re.S)

    def stat(name):
        found = re.search(rf'data-testid="stat-{name}">.*?stat-value">(.*?)</span>', section, re.S)
        return found.group(1)

    assert stat("conversations") == "3" and "by 2 editors" in section
    assert stat("requests") == "6"
    assert stat("median-latency") == "800 ms" and "(3 turns)" in section
    assert (stat("changed"), stat("refused"), stat("asked"), stat("undone")) == ("2", "1", "1", "1")
    frequent = re.search(r'data-testid="list-frequent">.*?</table>', section, re.S).group(0)
    assert re.search(r"“make the heading blue”</td><td[^>]*>2×", frequent)  # the latest wording
    assert "“Dance for me”" in section and "Sorry, I can&#x27;t help" in section
    assert "“Change the text”" in section and "Which one: the heading or the paragraph?" in section
    undone = re.search(r'data-testid="list-undone">.*?</ul>', section, re.S).group(0)
    assert "“Make the heading blue!”" in undone and "update_style" in undone
    assert f'?page__id__exact={home.pk}&amp;outcome=refused"' in section
    assert f"/admin/mrblue/conversation/{made['mixed'].pk}/change/" in section
    assert "Sing" not in section  # the other page's


def test_a_page_without_conversations_says_so(admin_client_for, make_page):
    page = make_page()
    body = admin_client_for.get(f"/admin/editor/page/{page.pk}/change/").text
    assert 'data-testid="text-no-conversations"' in body


def test_the_page_insight_takes_a_fixed_number_of_queries(talks, make_user):
    home, _, ana, _ = talks
    with CaptureQueriesContext(connection) as before:
        read_page_insight(home)
    for n in range(4):
        hold(ana, home, (f"Request {n}", "Done.", BLUE), timings=(700,))
    with CaptureQueriesContext(connection) as after:
        insight = read_page_insight(home)
    assert insight.conversations == 7 and len(after) == len(before)


def test_the_page_list_counts_conversations_with_a_link(admin_client_for, talks):
    home, _, _, _ = talks
    body = admin_client_for.get("/admin/editor/page/").text
    link = f'<a href="/admin/mrblue/conversation/?page__id__exact={home.pk}">3</a>'
    assert f'<td class="field-conversation_count">{link}</td>' in body


def test_the_editors_list_shows_first_words_length_and_edits(client, talks):
    home, _, ana, made = talks
    ended = made["undone"].ended_at
    Conversation.objects.filter(pk=made["undone"].pk).update(
        started_at=ended - timedelta(seconds=75)
    )
    client.force_login(ana)
    for url in (f"/editor/{home.slug}/conversations/", f"/editor/{home.slug}/"):
        body = client.get(url).text
        found = re.search(
            rf'data-testid="conversation-{made["undone"].pk}">.*?</summary>', body, re.S
        ).group(0)
        assert "“Make the heading blue!”" in found
        assert "1:15 · 2 turns · 1 edit (1 undone)" in found
        greeting = re.search(
            rf'data-testid="conversation-{made["greeting"].pk}">.*?</summary>', body, re.S
        ).group(0)
        assert "“Hello”" in greeting and "1 turn · no edits" in greeting
        assert f"conversation-{made['mixed'].pk}" not in body  # another editor's


def test_the_editors_list_cuts_long_first_words_and_waits_for_the_end(
    client, make_page, editor_user
):
    page = make_page()
    long = "please make the heading of this page a lot bigger and bold"
    conversation = Conversation.objects.create(
        user=editor_user, page=page, page_title=page.title, provider="local", model="m", session={}
    )
    store(
        conversation,
        validate(
            {
                "type": "transcript",
                "seq": 0,
                "item_id": "u",
                "role": "user",
                "text": long,
                "final": True,
            }
        ),
    )
    client.force_login(editor_user)
    body = client.get(f"/editor/{page.slug}/conversations/").text
    assert "“please make the heading of this page a…”" in body and "not ended" in body


# --- the judging itself ------------------------------------------------------------------------


def test_each_edit_goes_to_the_request_said_before_its_tool_call():
    now = timezone.now()
    lines = [
        Line("user", "Make it blue", 0),
        Line("assistant", "Which one:", 3),
        Line("assistant", "the heading?", 4),
        Line("user", "The heading", 5),
        Line("assistant", "Done.", 8),
    ]
    late = Edit(6, "update_style", now)
    early = Edit(0, "insert_block", now, undone_at=now + timedelta(seconds=30))
    first, second = requests_of(7, lines, [late, early])
    assert (first.answer, first.outcome) == ("Which one: the heading?", "undone")
    assert (second.edits, second.outcome) == ([late], "changed")


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ("Sorry, I can't help with that offline.", "refused"),
        ("I’m unable to do that.", "refused"),
        ("I couldn't do that: there is no such block.", "refused"),
        ("Which colour should the heading be?", "asked"),
        ("What should I add: a heading or a button? ", "asked"),
        ("Hi! I'm Mr. Blue.", "answered"),
    ],
)
def test_an_answer_without_an_edit_is_a_refusal_a_question_or_an_answer(answer, outcome):
    assert Request(1, "x", answer).outcome == outcome


def test_the_same_request_is_counted_whatever_its_punctuation_and_fillers():
    said = ["Make the heading blue.", "please make the heading BLUE", "Hey, Mr. Blue, add a button"]
    requests = [Request(1, text) for text in said]
    assert normalized("Hey, Mr. Blue, add a button!") == "add a button"
    assert most_frequent(requests) == [
        ("please make the heading BLUE", 2),
        ("Hey, Mr. Blue, add a button", 1),
    ]

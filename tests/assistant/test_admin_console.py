"""The admin's console ("Try it here"): its endpoints, over HTTP, with the form's unsaved values.

What the browser does with them (the panel, the scratch preview, speech) is in
test_admin_console_browser.py; here: what the server builds from the form, that it saves
nothing, who may use it, and its limits.
"""

import json

import pytest
from django.test import Client

from editor.models import Page, PageRevision
from mrblue.models import AssistantProfile, Conversation, PageAssistant
from tests.support.html_forms import form_pairs, with_values

pytestmark = pytest.mark.django_db

BLOCKS = [
    {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
    {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
]
SCRATCH = [
    {"id": "heading", "type": "heading", "text": "Milonga tonight", "style": {"color": "#1e88e5"}},
    *BLOCKS[1:],
]


@pytest.fixture
def tango(make_page, make_profile):
    """The page, with a profile and instructions of its own, saved."""
    make_profile(name="Default", is_default=True)
    calm = make_profile(name="Calm", voice="sage")
    page = make_page("mundo-tango", "Mundo Tango", blocks=BLOCKS)
    PageAssistant.objects.create(page=page, profile=calm, instructions="Be brief.")
    return page


@pytest.fixture
def staff(make_user):
    """Returns a function: a client logged in as a staff user with these permissions."""

    def login(*perms, username="staff"):
        client = Client()
        client.force_login(make_user(username, perms=perms, staff=True))
        return client

    return login


# Who may change a page and Mr. Blue's settings on it (the page screen's inline).
PAGE_PERMS = (
    "editor.change_page",
    "editor.view_page",
    "mrblue.add_pageassistant",
    "mrblue.change_pageassistant",
    "mrblue.view_pageassistant",
)
PROFILE_PERMS = ("mrblue.change_assistantprofile", "mrblue.view_assistantprofile")


def page_url(page, endpoint=""):
    return f"/admin/editor/page/{page.pk}/{endpoint}"


def profile_url(profile, endpoint=""):
    return f"/admin/mrblue/assistantprofile/{profile.pk}/{endpoint}"


def the_form(client, url, form_id, **changes):
    """The change form's fields as the browser sends them, with `changes` typed in."""
    response = client.get(f"{url}change/")
    assert response.status_code == 200
    return with_values(form_pairs(response.content.decode(), form_id), **changes)


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def saved_state(page):
    """Everything of a page the console must leave alone."""
    page = Page.objects.get(pk=page.pk)
    assistant = PageAssistant.objects.filter(page=page).values("profile", "instructions").first()
    revisions = list(PageRevision.objects.filter(page=page).values_list("pk", "content"))
    return page.title, page.slug, page.content, assistant, revisions


def test_the_page_console_mints_with_the_forms_unsaved_values_on_the_scratch_copy(
    tango, staff, fake_openai
):
    client = staff(*PAGE_PERMS)
    before = saved_state(tango)
    form = the_form(
        client,
        page_url(tango),
        "page_form",
        title="Mundo Tango (draft)",
        **{"assistant-0-instructions": "Speak like a tango teacher."},
    )
    response = post(client, page_url(tango, "console/session/"), {"form": form, "blocks": SCRATCH})
    assert response.status_code == 200, response.content
    (sent,) = fake_openai.requests
    session = sent["body"]["session"]
    assert "Speak like a tango teacher." in session["instructions"]
    assert "Be brief." not in session["instructions"]
    assert '"Mundo Tango (draft)"' in session["instructions"]  # the unsaved title
    assert session["audio"]["output"]["voice"] == "sage"  # the page's profile
    # The vocabulary the transcription is primed with comes from the scratch copy.
    assert "Milonga" in session["audio"]["input"]["transcription"]["prompt"]
    trial = Conversation.objects.get(pk=response.json()["conversation_id"])
    assert trial.trial and trial.session == session and trial.page_id == tango.pk
    assert trial.profile.name == "Calm"
    assert saved_state(tango) == before


def test_the_page_console_uses_the_profile_picked_on_the_form(tango, staff, fake_openai):
    client = staff(*PAGE_PERMS)
    default = AssistantProfile.objects.get(name="Default")
    form = the_form(client, page_url(tango), "page_form", **{"assistant-0-profile": ""})
    response = post(client, page_url(tango, "console/session/"), {"form": form, "blocks": BLOCKS})
    assert response.status_code == 200, response.content
    assert fake_openai.requests[0]["body"]["session"]["audio"]["output"]["voice"] == default.voice
    assert Conversation.objects.get().profile == default
    assert PageAssistant.objects.get().profile.name == "Calm"


def test_the_profile_console_tries_unsaved_settings_on_a_chosen_page(
    tango, staff, fake_openai, make_page
):
    calm = AssistantProfile.objects.get(name="Calm")
    other = make_page("other", "Other page")
    client = staff(*PROFILE_PERMS, "editor.view_page")
    form = the_form(
        client,
        profile_url(calm),
        "assistantprofile_form",
        voice="echo",
        speed="1.2",
        turn_detection="semantic_vad",
        vad_eagerness="high",
        instructions="You are Mr. Blue on {{ page.title }}.",
    )
    body = {"form": form, "blocks": other.content, "page": other.pk}
    response = post(client, profile_url(calm, "console/session/"), body)
    assert response.status_code == 200, response.content
    session = fake_openai.requests[0]["body"]["session"]
    output = session["audio"]["output"]
    assert (output["voice"], output["speed"]) == ("echo", 1.2)
    assert session["audio"]["input"]["turn_detection"]["eagerness"] == "high"
    assert session["instructions"] == "You are Mr. Blue on Other page."
    calm.refresh_from_db()
    assert (calm.voice, calm.speed, calm.turn_detection) == ("sage", 1.0, "server_vad")
    trial = Conversation.objects.get()
    assert trial.trial and trial.profile == calm and trial.page == other


def test_the_profile_console_needs_a_page_the_user_may_view(tango, staff, fake_openai):
    calm = AssistantProfile.objects.get(name="Calm")
    client = staff(*PROFILE_PERMS)  # no permission on pages
    form = the_form(client, profile_url(calm), "assistantprofile_form")
    body = {"form": form, "blocks": BLOCKS, "page": tango.pk}
    response = post(client, profile_url(calm, "console/session/"), body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "There is no such page you may view."
    assert client.get(profile_url(calm, f"console/pages/{tango.pk}/")).status_code == 404
    assert not fake_openai.requests and not Conversation.objects.exists()


def test_settings_that_would_not_save_are_refused_field_by_field(tango, staff, fake_openai):
    client = staff(*PAGE_PERMS)
    form = the_form(
        client,
        page_url(tango),
        "page_form",
        slug="not a slug!",
        **{"assistant-0-instructions": "Hi {% if %}"},
    )
    response = post(client, page_url(tango, "console/session/"), {"form": form, "blocks": BLOCKS})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_settings"
    assert (
        "Slug:" in error["message"]
        and "Assistant instructions: Template error" in (error["message"])
    )
    assert not fake_openai.requests and not Conversation.objects.exists()


def test_the_profile_form_is_validated_as_saving_it_would_be(tango, staff, fake_openai):
    calm = AssistantProfile.objects.get(name="Calm")
    client = staff(*PROFILE_PERMS, "editor.view_page")
    form = the_form(
        client, profile_url(calm), "assistantprofile_form", vad_threshold="3", name="Default"
    )
    body = {"form": form, "blocks": BLOCKS, "page": tango.pk}
    error = post(client, profile_url(calm, "console/session/"), body).json()["error"]
    assert error["code"] == "invalid_settings"
    assert "Vad threshold: Must be between 0.0 and 1.0" in error["message"]
    assert "Assistant profile with this Name already exists." in error["message"]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("editor", 403, "forbidden"),  # may edit pages, but is not staff
        ("staff who may only view", 403, "forbidden"),
        ("staff who may change profiles only", 403, "forbidden"),
    ],
)
def test_only_staff_who_may_change_the_page_can_use_its_console(
    tango, staff, make_user, fake_openai, who, status, code
):
    if who == "anonymous":
        client = Client()
    elif who == "editor":
        client = Client()
        client.force_login(make_user("editor", perms=PAGE_PERMS))
    elif who == "staff who may only view":
        client = staff("editor.view_page", "mrblue.view_pageassistant")
    else:
        client = staff(*PROFILE_PERMS)
    body = {"form": [], "blocks": BLOCKS}
    for endpoint in ("session", "instructions", "tools"):
        response = post(client, page_url(tango, f"console/{endpoint}/"), body)
        assert response.status_code == status, (endpoint, response.content)
        assert response.json()["error"]["code"] == code
    assert client.get(page_url(tango, "console/conversations/1/")).status_code == status
    assert not fake_openai.requests


def test_only_staff_who_may_change_the_profile_can_use_its_console(tango, staff, fake_openai):
    calm = AssistantProfile.objects.get(name="Calm")
    body = {"form": [], "blocks": BLOCKS, "page": tango.pk}
    viewer = staff("mrblue.view_assistantprofile", *PAGE_PERMS, username="viewer")
    response = post(viewer, profile_url(calm, "console/session/"), body)
    assert response.status_code == 403
    assert "You may not change this assistant profile" in response.json()["error"]["message"]
    assert b'data-testid="console"' not in viewer.get(profile_url(calm, "change/")).content
    changer = staff(*PROFILE_PERMS, "editor.view_page", username="changer")
    assert b'data-testid="console"' in changer.get(profile_url(calm, "change/")).content


def test_the_change_form_shows_the_console_only_to_who_may_use_it(tango, staff):
    viewer = staff("editor.view_page", username="viewer")
    assert viewer.get(page_url(tango, "change/")).status_code == 200
    assert b'data-testid="console"' not in viewer.get(page_url(tango, "change/")).content
    html = staff(*PAGE_PERMS).get(page_url(tango, "change/")).content.decode()
    assert 'data-testid="console"' in html and 'href="#try-it"' in html
    config = html.split('<script id="mrblue-console-config" type="application/json">')[1]
    config = json.loads(config.split("</script>")[0])
    assert config["blocks"] == BLOCKS and config["form"] == "page_form"
    assert config["urls"]["session"] == page_url(tango, "console/session/")


def test_the_console_mints_within_the_editors_rate_limit(tango, staff, fake_openai, settings):
    settings.MRBLUE_MINT_RATE_PER_MINUTE = 2
    client = staff(*PAGE_PERMS)
    form = the_form(client, page_url(tango), "page_form")
    editor_mint = post(client, "/api/realtime/session", {"page": tango.slug})
    assert editor_mint.status_code == 200
    url = page_url(tango, "console/session/")
    assert post(client, url, {"form": form, "blocks": BLOCKS}).status_code == 200
    limited = post(client, url, {"form": form, "blocks": BLOCKS})
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 120
    assert len(fake_openai.requests) == 2
    # Another user has a count of their own.
    other = staff(*PAGE_PERMS, username="other")
    assert post(other, url, {"form": form, "blocks": BLOCKS}).status_code == 200


def test_a_reconnect_continues_the_trial_never_an_editors_conversation(tango, staff, fake_openai):
    client = staff(*PAGE_PERMS)
    form = the_form(client, page_url(tango), "page_form")
    url = page_url(tango, "console/session/")
    first = post(client, url, {"form": form, "blocks": BLOCKS}).json()["conversation_id"]
    again = post(client, url, {"form": form, "blocks": BLOCKS, "conversation": first})
    assert again.json()["conversation_id"] == first
    editors = post(client, "/api/realtime/session", {"page": tango.slug}).json()
    crossed = post(
        client, url, {"form": form, "blocks": BLOCKS, "conversation": editors["conversation_id"]}
    )
    assert crossed.json()["conversation_id"] not in (first, editors["conversation_id"])
    assert Conversation.objects.filter(trial=True).count() == 2


def test_the_instructions_follow_the_selection_with_the_forms_values(tango, staff):
    client = staff(*PAGE_PERMS)
    instructions = "Selected: {{ selected }}."
    form = the_form(
        client, page_url(tango), "page_form", **{"assistant-0-instructions": instructions}
    )
    body = {"form": form, "blocks": SCRATCH, "selected": "heading"}
    response = post(client, page_url(tango, "console/instructions/"), body)
    assert response.status_code == 200
    assert 'Selected: heading "Milonga tonight" (id heading).' in response.json()["instructions"]
    assert PageAssistant.objects.get().instructions == "Be brief."


def test_a_tool_call_changes_the_blocks_it_is_sent_and_stores_nothing(tango, staff):
    client = staff(*PAGE_PERMS)
    before = saved_state(tango)
    url = page_url(tango, "console/tools/")
    body = {"blocks": BLOCKS, "name": "update_style", "arguments": {"block_id": "heading"}}
    body["arguments"]["color"] = "blue"
    response = post(client, url, body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["ok"] and answer["result"] == 'changed color of heading "Mundo Tango"'
    assert answer["blocks"][0]["style"] == {"color": "#1e88e5"}
    assert answer["blocks"][1] == BLOCKS[1]
    assert saved_state(tango) == before


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({"name": "undo", "arguments": {}}, 400, "tool_error", "does not change the page's"),
        ({"name": "describe_page", "arguments": {}}, 400, "tool_error", "does not change"),
        ({"name": "update_text", "arguments": {"block_id": "cta"}}, 400, "tool_error", "text"),
        ({"name": "delete_block", "arguments": {"block_id": "nope"}}, 400, "tool_error", "nope"),
        ({"name": "delete_block", "blocks": [{"id": 1}]}, 400, "bad_request", "not a page's"),
    ],
)
def test_a_tool_call_that_cannot_be_made_says_why(tango, staff, body, status, code, words):
    client = staff(*PAGE_PERMS)
    before = saved_state(tango)
    response = post(client, page_url(tango, "console/tools/"), {"blocks": BLOCKS, **body})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert words in response.json()["error"]["message"]
    assert saved_state(tango) == before


def test_tool_calls_count_against_the_editors_limit(tango, staff, settings):
    settings.MRBLUE_TOOL_CALLS_PER_MINUTE = 1
    client = staff(*PAGE_PERMS)
    body = {"blocks": BLOCKS, "name": "delete_block", "arguments": {"block_id": "cta"}}
    assert post(client, page_url(tango, "console/tools/"), body).status_code == 200
    limited = post(client, page_url(tango, "console/tools/"), body)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("[]", "Send a JSON object"),
        ('{"form": "title=x", "blocks": []}', '"form" must be'),
        ('{"form": [["title"]], "blocks": []}', '"form" must be'),
        ('{"form": [], "blocks": {}}', '"blocks" is not a page'),
        ('{"form": [], "blocks": [], "selected": 5}', '"selected" must be'),
        ('{"form": [], "blocks": [], "conversation": "1"}', '"conversation" must be'),
        ("{", "not usable JSON"),
    ],
)
def test_a_malformed_request_is_a_clear_400(tango, staff, raw, words):
    client = staff(*PAGE_PERMS)
    url = page_url(tango, "console/session/")
    response = client.post(url, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert words in response.json()["error"]["message"]


def test_without_the_csrf_token_the_console_is_refused_in_json(tango, make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("staff", perms=PAGE_PERMS, staff=True))
    response = post(client, page_url(tango, "console/session/"), {"form": [], "blocks": []})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_a_trial_is_drawn_as_the_conversation_page_draws_it(
    tango, staff, make_conversation, make_user
):
    client = staff(*PAGE_PERMS)
    me = make_user("me-too", perms=PAGE_PERMS, staff=True)
    client.force_login(me)
    trial = make_conversation(owner=me, page=tango, trial=True)
    trial.transcript.create(item_id="i1", role="user", text="Make the heading blue.", seq=0)
    trial.log.create(
        seq=1,
        type="tool_call",
        payload={"name": "update_style", "arguments": '{"color": "blue"}', "output": "ok"},
    )
    trial.turn_timings.create(seq=2, source="engine", speech_stopped_ms=300, first_audio_ms=900)
    response = client.get(page_url(tango, f"console/conversations/{trial.pk}/"))
    assert response.status_code == 200
    html = response.json()["html"]
    assert "<strong>You:</strong> Make the heading blue." in html
    assert "update_style" in html and 'class="mrblue-latency-chart"' in html
    assert f"/admin/mrblue/conversation/{trial.pk}/change/" in html
    # Not another user's trial, nor a conversation held in the editor.
    for other in (
        make_conversation(owner=make_user("someone-else"), page=tango, trial=True),
        make_conversation(owner=me, page=tango),
    ):
        assert client.get(page_url(tango, f"console/conversations/{other.pk}/")).status_code == 404


def test_trials_stay_out_of_the_editors_list_and_the_profiles_median(
    tango, make_conversation, editor_user, staff, make_user
):
    editors = make_conversation(owner=editor_user, page=tango)
    trial = make_conversation(owner=editor_user, page=tango, trial=True)
    assert list(Conversation.latest_for(tango, editor_user)) == [editors]
    calm = AssistantProfile.objects.get(name="Calm")
    trial.profile = calm
    trial.save()
    trial.turn_timings.create(seq=1, source="engine", first_audio_ms=4321)
    html = staff(*PROFILE_PERMS).get(profile_url(calm, "change/")).content.decode()
    assert "4321" not in html and "No timed turns in its conversations yet." in html
    root = Client()
    root.force_login(make_user("root", superuser=True))
    listing = root.get("/admin/mrblue/conversation/?trial__exact=1").content.decode()
    assert f"/conversation/{trial.pk}/change/" in listing
    assert f"/conversation/{editors.pk}/change/" not in listing

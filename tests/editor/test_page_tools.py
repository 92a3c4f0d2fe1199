"""Page tools on the server: schemas, the tool endpoint, revisions, one undo/redo history."""

import json

import jsonschema
import pytest

from editor.models import Page
from editor.operations import ToolError, apply
from editor.tools import EDITOR_TOOLS

pytestmark = pytest.mark.django_db
BLOCKS = [
    {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
    {"id": "intro", "type": "paragraph", "text": "Tango for all.", "style": {}},
    {"id": "cta", "type": "button", "text": "Join", "style": {}},
]


@pytest.fixture
def page(make_page):
    return make_page("mundo-tango", "Mundo Tango", blocks=BLOCKS)


@pytest.fixture
def tool(client, editor_user, page):
    client.force_login(editor_user)

    def call(name, arguments=None, call_id="call_1", raw=None):
        body = (
            raw
            if raw is not None
            else json.dumps({"name": name, "arguments": arguments or {}, "call_id": call_id})
        )
        return client.post("/editor/mundo-tango/tools/", body, content_type="application/json")

    return call


def texts(page):
    page.refresh_from_db()
    return [block.get("text") for block in page.content]


@pytest.mark.parametrize("tool_definition", EDITOR_TOOLS, ids=[t["name"] for t in EDITOR_TOOLS])
def test_tool_schemas_are_valid_json_schema(tool_definition):
    jsonschema.Draft202012Validator.check_schema(tool_definition["parameters"])
    assert tool_definition["description"]


def test_an_edit_changes_the_page_and_records_who_and_which_call(tool, page, editor_user):
    answer = tool("update_style", {"block_id": "heading", "color": "blue"}, call_id="call_42")
    assert answer.status_code == 200
    data = answer.json()
    assert data["ok"] and data["blocks"][0]["style"] == {"color": "#1e88e5"}
    assert data["revisions"][0]["kind"] == "edit"
    revision = page.revisions.first()
    assert (revision.author, revision.call_id, revision.kind) == (editor_user, "call_42", "edit")
    assert revision.replaced_content == BLOCKS and revision.content_before is None
    page.refresh_from_db()
    assert page.content[0]["style"]["color"] == "#1e88e5"


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("update_style", {"block_id": "heading", "color": 5}, "Invalid arguments"),
        ("update_style", {"block_id": "heading", "shadow": "big"}, "Invalid arguments"),
        ("update_text", {"block_id": "nope", "text": "x"}, "no block with id 'nope'"),
        ("delete_block", {}, "Invalid arguments"),
        ("insert_block", {"type": "video", "text": "x", "position": "end"}, "Invalid arguments"),
        (
            "move_block",
            {"block_id": "cta", "position": "before", "relative_to": "cta"},
            "next to itself",
        ),
        ("update_style", {"block_id": "heading", "color": "blurple"}, "unknown colour"),
        ("describe_page", {}, "does not change the page"),
        ("launch_rockets", {}, "no tool called"),
        ("undo", {}, "nothing to undo"),
    ],
)
def test_bad_calls_are_error_outputs_and_change_nothing(tool, page, name, arguments, error):
    answer = tool(name, arguments)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "tool_error"
    assert error in answer.json()["error"]["message"]
    page.refresh_from_db()
    assert page.content == BLOCKS and page.revisions.count() == 1


def test_bad_json_is_refused(tool, page):
    deep_arguments = json.dumps({"name": "undo", "arguments": "[" * 50_000})
    for raw in (
        "{nope",
        '{"name": "undo", "arguments": [1]}',
        "[" * 50_000 + "]" * 50_000,
        deep_arguments,
    ):
        answer = tool(None, raw=raw)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "text",
    ["\\ud800", "half \\ud83d", "a\\u0000b"],  # PostgreSQL's jsonb refuses each of them
)
def test_text_no_database_stores_is_refused(tool, page, text):
    arguments = '{"block_id": "intro", "text": "' + text + '"}'
    for raw in (
        '{"name": "update_text", "arguments": ' + arguments + "}",
        json.dumps({"name": "update_text", "arguments": arguments}),  # arguments as a string
    ):
        answer = tool(None, raw=raw)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
        assert "not text" in answer.json()["error"]["message"]
    page.refresh_from_db()
    assert page.content == BLOCKS and page.revisions.count() == 1


def error_code(response):
    """The `code` of an error answer in the project's one shape."""
    return response.status_code, response.json()["error"]["code"]


def test_only_editors_may_change_pages(client, page, make_user):
    body = json.dumps({"name": "delete_block", "arguments": {"block_id": "cta"}})
    url = "/editor/mundo-tango/tools/"
    assert error_code(client.post(url, body, content_type="application/json")) == (
        401,
        "not_authenticated",
    )
    client.force_login(make_user("visitor"))
    answer = client.post(url, body, content_type="application/json")
    assert error_code(answer) == (403, "forbidden")
    missing = client.post("/editor/nope/tools/", body, content_type="application/json")
    assert error_code(missing) == (403, "forbidden")  # not told which pages exist
    page.refresh_from_db()
    assert page.content == BLOCKS


def test_an_unknown_page_is_a_404_error(client, editor_user):
    client.force_login(editor_user)
    body = json.dumps({"name": "undo", "arguments": {}})
    answer = client.post("/editor/nope/tools/", body, content_type="application/json")
    assert error_code(answer) == (404, "page_not_found")


def test_insert_move_delete(tool, page):
    tool(
        "insert_block",
        {"type": "button", "text": "Sign up", "position": "after", "relative_to": "intro"},
    )
    assert texts(page) == ["Mundo Tango", "Tango for all.", "Sign up", "Join"]
    tool("move_block", {"block_id": "cta", "position": "before", "relative_to": "heading"})
    assert texts(page) == ["Join", "Mundo Tango", "Tango for all.", "Sign up"]
    tool("delete_block", {"block_id": "intro"})
    assert texts(page) == ["Join", "Mundo Tango", "Sign up"]
    tool("insert_block", {"type": "paragraph", "text": "The end", "position": "end"})
    assert texts(page)[-1] == "The end"


def test_undo_and_redo_share_one_history(tool, page):
    tool("update_text", {"block_id": "heading", "text": "One"})
    tool("update_text", {"block_id": "heading", "text": "Two"})
    tool("undo")
    assert texts(page)[0] == "One"
    tool("undo")
    assert texts(page)[0] == "Mundo Tango"
    assert tool("undo").json()["error"]["message"] == "There is nothing to undo."
    tool("redo")
    assert texts(page)[0] == "One"
    tool("update_text", {"block_id": "heading", "text": "Three"})  # ends the redo history
    assert tool("redo").json()["error"]["message"] == "There is nothing to redo."
    tool("undo")
    assert texts(page)[0] == "One"
    kinds = list(page.revisions.order_by("id").values_list("kind", flat=True))
    assert kinds == ["save", "edit", "edit", "undo", "undo", "redo", "edit", "undo"]


def test_any_revision_can_be_restored_from_the_editor(client, editor_user, tool, page):
    first = page.revisions.get()
    tool("delete_block", {"block_id": "cta"})
    answer = client.post(
        f"/editor/mundo-tango/revisions/{first.pk}/restore/", "{}", content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json()["blocks"] == BLOCKS
    assert page.revisions.first().kind == "restore"
    missing = client.post(
        "/editor/mundo-tango/revisions/999999/restore/", "{}", content_type="application/json"
    )
    assert error_code(missing) == (404, "revision_not_found")


def test_the_editor_page_lists_revisions(client, editor_user, tool, page):
    tool("update_text", {"block_id": "heading", "text": "New"})
    html = client.get("/editor/mundo-tango/").content.decode()
    assert 'id="page-revisions"' in html and "update_text" in html
    assert 'data-testid="button-undo"' in html and 'data-testid="button-redo"' in html


def test_operations_on_images_and_styles():
    image = [{"id": "img", "type": "image", "src": "/a.png", "alt": "", "style": {}}]
    with pytest.raises(ToolError, match="image"):
        apply(image, "update_text", {"block_id": "img", "text": "x"})
    blocks, said = apply(
        BLOCKS, "update_style", {"block_id": "cta", "font_size": 20, "align": "center"}
    )
    assert blocks[2]["style"] == {"font_size": 20, "align": "center"} and "cta" not in said
    assert BLOCKS[2]["style"] == {}  # the input is not changed


def test_page_admin_lists_revisions(client, make_user, tool, page):
    tool("update_text", {"block_id": "heading", "text": "New"})
    client.force_login(make_user("root", superuser=True))
    html = client.get(f"/admin/editor/page/{Page.objects.get().pk}/change/").content.decode()
    assert "update_text" in html


def test_undo_refuses_to_throw_away_a_later_admin_save(tool, page, make_user):
    tool("update_text", {"block_id": "heading", "text": "One"})
    page.refresh_from_db()
    page.content[1] = {**page.content[1], "text": "Saved in the admin."}
    page.save(author=make_user("root", superuser=True), note="admin")  # as the admin saves
    answer = tool("undo")  # what the Undo button sends
    assert answer.status_code == 400
    error = answer.json()["error"]["message"]
    assert "changed since" in error and "by root" in error and "undo is not possible" in error
    assert texts(page) == ["One", "Saved in the admin.", "Join"]
    # A later edit can still be undone, and only it.
    tool("update_text", {"block_id": "cta", "text": "Go"})
    assert tool("undo").status_code == 200
    assert texts(page) == ["One", "Saved in the admin.", "Join"]
    assert tool("undo").status_code == 400


def test_undo_refuses_to_throw_away_a_restore(client, tool, page):
    first = page.revisions.get()
    tool("delete_block", {"block_id": "cta"})
    tool("update_text", {"block_id": "heading", "text": "Two"})
    restored = client.post(
        f"/editor/mundo-tango/revisions/{first.pk}/restore/", "{}", content_type="application/json"
    )
    assert restored.status_code == 200
    answer = tool("undo")
    assert answer.status_code == 400 and "undo is not possible" in answer.json()["error"]["message"]
    assert texts(page) == [block["text"] for block in BLOCKS]
    assert page.revisions.first().kind == "restore"


def test_tool_calls_are_limited_per_user_and_minute(tool, page, client, make_user, settings):
    settings.MRBLUE_TOOL_CALLS_PER_MINUTE = 3
    for n in range(3):
        assert tool("update_text", {"block_id": "heading", "text": f"T{n}"}).status_code == 200
    refused = tool("undo")  # the Undo button counts too
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 120
    assert texts(page)[0] == "T2"
    client.force_login(make_user("other", perms=("editor.change_page",)))
    assert tool("undo").status_code == 200  # another user has a budget of their own


def test_restoring_revisions_counts_with_the_tool_calls(client, tool, page, make_user, settings):
    # Each restore stores the whole page again: one user must not be able to fill the database.
    settings.MRBLUE_TOOL_CALLS_PER_MINUTE = 3
    first = page.revisions.get()

    def restore():
        url = f"/editor/mundo-tango/revisions/{first.pk}/restore/"
        return client.post(url, "{}", content_type="application/json")

    assert tool("delete_block", {"block_id": "cta"}).status_code == 200
    assert restore().status_code == 200 and restore().status_code == 200
    refused = restore()
    assert error_code(refused) == (429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 120
    assert tool("undo").status_code == 429  # one budget for every page change
    assert page.revisions.count() == 4  # the first save, the edit, two restores
    client.force_login(make_user("other", perms=("editor.change_page",)))
    assert restore().status_code == 200  # another user has a budget of their own

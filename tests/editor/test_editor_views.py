"""The editor pages: who may open them and what they show."""

import pytest

pytestmark = pytest.mark.django_db


def test_root_leads_to_the_editor_list(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/editor/"


@pytest.mark.parametrize("url", ["/editor/", "/editor/home/"])
def test_anonymous_users_get_the_login_page(client, make_page, url):
    make_page()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("url", ["/editor/", "/editor/home/"])
def test_users_without_permission_get_403(client, make_page, make_user, url):
    make_page()
    client.force_login(make_user("visitor"))
    assert client.get(url).status_code == 403


def test_editor_sees_the_page_list(client, make_page, editor_user):
    make_page()
    client.force_login(editor_user)
    response = client.get("/editor/")
    assert response.status_code == 200
    assert b'href="/editor/home/"' in response.content


def test_editor_sees_the_blocks_and_the_ai_tab(client, make_page, editor_user):
    make_page(blocks=[{"id": "h1", "type": "heading", "text": "Hi <b>", "style": {"color": "red"}}])
    client.force_login(editor_user)
    response = client.get("/editor/home/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-block-id="h1"' in html and "Hi &lt;b&gt;" in html
    assert "color: #e53935;" in html
    assert 'data-testid="tab-ai"' in html and 'data-testid="text-selected"' in html
    assert 'id="page-blocks"' in html


def test_unknown_page_is_404(client, editor_user):
    client.force_login(editor_user)
    assert client.get("/editor/nope/").status_code == 404


def test_login_and_logout(client, editor_user):
    response = client.post("/accounts/login/", {"username": "editor", "password": "pw-12345!"})
    assert response.status_code == 302 and response["Location"] == "/editor/"
    assert client.get("/editor/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/editor/").status_code == 302


def test_wrong_password_shows_an_error(client, editor_user):
    response = client.post("/accounts/login/", {"username": "editor", "password": "nope"})
    assert response.status_code == 200 and b"didn't match" in response.content


def test_editors_see_their_own_conversations_on_the_page(client, make_page, editor_user, make_user):
    from mrblue.models import Conversation, TranscriptEntry

    page = make_page()
    other = make_user("other", perms=("editor.change_page",))
    for user, words in ((editor_user, "my own words"), (other, "someone else's words")):
        conversation = Conversation.objects.create(
            user=user, page=page, page_title="Home", provider="local", model="m", session={}
        )
        TranscriptEntry.objects.create(
            conversation=conversation, item_id="i1", role="user", text=words, final=True, seq=0
        )
    client.force_login(editor_user)
    html = client.get("/editor/home/").content.decode()
    assert "my own words" in html and "someone else" not in html
    piece = client.get("/editor/home/conversations/")
    assert piece.status_code == 200
    assert "my own words" in piece.content.decode()
    assert "someone else" not in piece.content.decode()
    client.logout()
    assert client.get("/editor/home/conversations/").status_code == 302
    client.force_login(make_user("visitor"))
    assert client.get("/editor/home/conversations/").status_code == 403
    client.force_login(editor_user)
    assert client.get("/editor/nope/conversations/").status_code == 404

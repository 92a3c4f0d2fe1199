"""Each edit stores the page once: the content it replaced is the revision before it, linked,
not a second copy; the migration that links the stored edits keeps every row, both ways."""

import pytest
from django.db.models import RestrictedError

from editor.history import run_tool
from editor.models import Page
from tests.support.migrations import migrate, migrate_to_latest

BLOCKS = [{"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}}]


def heading(text):
    return [{**BLOCKS[0], "text": text}]


@pytest.mark.django_db
def test_an_edit_links_the_revision_it_replaced_instead_of_copying_it(make_user):
    user = make_user("editor")
    page = Page.objects.create(slug="p", title="P", content=BLOCKS)
    first = page.revisions.get()
    run_tool(page.pk, user, "update_text", {"block_id": "heading", "text": "One"})
    edit = page.revisions.order_by("-id").first()
    assert (edit.replaced, edit.content_before) == (first, None)
    assert edit.replaced_content == BLOCKS
    # Changed without a revision (a bulk update): the next edit keeps what it replaced itself.
    Page.objects.filter(pk=page.pk).update(content=heading("Bulk"))
    run_tool(page.pk, user, "update_text", {"block_id": "heading", "text": "Two"})
    edit = page.revisions.order_by("-id").first()
    assert (edit.replaced, edit.content_before) == (None, heading("Bulk"))
    run_tool(page.pk, user, "undo", {})
    page.refresh_from_db()
    assert page.content == heading("Bulk")
    run_tool(page.pk, user, "redo", {})
    run_tool(page.pk, user, "update_text", {"block_id": "heading", "text": "Three"})
    run_tool(page.pk, user, "undo", {})
    page.refresh_from_db()
    assert page.content == heading("Two")


@pytest.mark.django_db
def test_a_revision_an_edit_needs_is_kept_until_its_page_goes(client, make_user):
    page = Page.objects.create(slug="p", title="P", content=BLOCKS)
    run_tool(page.pk, make_user("editor"), "update_text", {"block_id": "heading", "text": "One"})
    needed = page.revisions.order_by("id").first()
    with pytest.raises(RestrictedError):
        needed.delete()
    client.force_login(make_user("root", superuser=True))
    answer = client.post(f"/admin/editor/pagerevision/{needed.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 200 and "protected related objects" in answer.content.decode()
    page.delete()
    assert not Page.objects.exists()


BEFORE = [("editor", "0004_rate_counts")]
AFTER = [("editor", "0006_link_replaced_revisions")]


@pytest.mark.django_db(transaction=True)
def test_stored_edits_are_linked_and_unlinked_without_losing_a_row():
    try:
        apps = migrate(BEFORE)
        Page = apps.get_model("editor", "Page")
        Revision = apps.get_model("editor", "PageRevision")
        a, b = Page.objects.create(slug="a", title="A"), Page.objects.create(slug="b", title="B")

        def revision(page, content, before=None):
            return Revision.objects.create(
                page=page, title="t", content=content, content_before=before, kind="edit"
            )

        a0 = revision(a, heading("a0"))
        b0 = revision(b, heading("b0"))  # another page's, between a's
        a1 = revision(a, heading("a1"), before=heading("a0"))
        a2 = revision(a, heading("a2"), before=heading("changed without a revision"))
        b1 = revision(b, heading("b1"), before=heading("b0"))
        orphan = revision(Page.objects.create(slug="c", title="C"), [], before=heading("x"))
        stored = {r.pk: r.content_before for r in Revision.objects.all()}

        apps = migrate(AFTER)
        Revision = apps.get_model("editor", "PageRevision")
        rows = {r.pk: (r.replaced_id, r.content_before) for r in Revision.objects.all()}
        assert rows == {
            a0.pk: (None, None),
            b0.pk: (None, None),
            a1.pk: (a0.pk, None),
            a2.pk: (None, heading("changed without a revision")),
            b1.pk: (b0.pk, None),
            orphan.pk: (None, heading("x")),
        }

        apps = migrate(BEFORE)
        Revision = apps.get_model("editor", "PageRevision")
        assert {r.pk: r.content_before for r in Revision.objects.all()} == stored
    finally:
        migrate_to_latest()

"""An edit's replaced content was a second copy of the page, the same as the revision before
it holds: link that revision instead and drop the copy. Every row stays; a copy that no earlier
revision matches (the page was changed without one) stays a copy. Backwards, the copies come
back from the linked revisions."""

from django.db import migrations

BATCH = 500


def link(apps, schema_editor):
    """Point each edit at the revision before it (same page) when that holds its copy."""
    Revision = apps.get_model("editor", "PageRevision")
    rows = Revision.objects.order_by("page_id", "id").only("page_id", "content", "content_before")
    links, previous = [], None
    # Read all first, write after: SQLite does not isolate a write from an open read.
    for revision in rows.iterator(chunk_size=BATCH):
        if (
            revision.content_before is not None
            and previous is not None
            and previous.page_id == revision.page_id
            and previous.content == revision.content_before
        ):
            links.append(Revision(pk=revision.pk, replaced_id=previous.pk, content_before=None))
        previous = revision
    Revision.objects.bulk_update(links, ["replaced", "content_before"], batch_size=BATCH)


def copy_back(apps, schema_editor):
    """Put the linked revision's content back into each edit, and drop the link."""
    Revision = apps.get_model("editor", "PageRevision")
    linked = list(Revision.objects.filter(replaced__isnull=False).values_list("pk", flat=True))
    for start in range(0, len(linked), BATCH):
        edits = Revision.objects.filter(pk__in=linked[start : start + BATCH])
        rows = [
            Revision(pk=edit.pk, replaced_id=None, content_before=edit.replaced.content)
            for edit in edits.select_related("replaced").only("replaced__content")
        ]
        Revision.objects.bulk_update(rows, ["replaced", "content_before"])


class Migration(migrations.Migration):
    dependencies = [("editor", "0005_pagerevision_replaced")]

    operations = [migrations.RunPython(link, copy_back)]

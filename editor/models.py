"""Pages of the visual editor and the revisions kept on every save."""

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse

from editor.blocks import validate_blocks


class Page(models.Model):
    """A page: a title and an ordered list of blocks."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    content = models.JSONField(default=list, blank=True, help_text="Ordered list of blocks.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def save(self, *args, author=None, note="", kind="save", before=None, call_id="", **kwargs):
        """Save the page and keep a revision of what was saved, in one transaction.

        `kind` says why (an admin save, a tool `edit`, an `undo`...); an `edit` keeps the
        content it replaced (`before`) so it can be undone: as a link to the latest revision,
        which holds that content already, else (the page was changed without one) as a copy.
        """
        with transaction.atomic():
            super().save(*args, **kwargs)
            if kind not in ("undo", "redo"):
                # A new change ends the redo history, as in any editor.
                self.revisions.filter(undone_at__isnull=False).update(redoable=False)
            replaced = None
            if before is not None:
                latest = self.revisions.only("content").order_by("-id").first()
                if latest is not None and latest.content == before:
                    replaced, before = latest, None
            return PageRevision.objects.create(
                page=self,
                title=self.title,
                content=self.content,
                author=author,
                note=note,
                kind=kind,
                replaced=replaced,
                content_before=before,
                call_id=call_id,
            )

    def get_absolute_url(self):
        """The page's editor URL."""
        return reverse("editor:page_editor", args=[self.slug])

    @property
    def path(self) -> str:
        """The page's public path, `/<slug>/`."""
        return f"/{self.slug}/"

    def clean(self):
        """Validate and normalise the blocks."""
        self.content = validate_blocks(self.content)


class PageRevision(models.Model):
    """A snapshot of a page as saved: who saved it, when and why (e.g. which tool call)."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="revisions")
    title = models.CharField(max_length=200)
    content = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, default="save")
    call_id = models.CharField(max_length=64, blank=True, help_text="The tool call, if any.")
    # An edit's replaced content, which its Undo brings back: the revision that holds it (a
    # revision is never changed, and cannot be deleted while an edit needs it), or a copy.
    replaced = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
        help_text="An edit's: the revision whose content it replaced.",
    )
    content_before = models.JSONField(
        null=True, blank=True, help_text="An edit's replaced content, when no revision holds it."
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    redoable = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.page} @ {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def replaced_content(self) -> list | None:
        """The content an edit replaced (None for other revisions)."""
        return self.replaced.content if self.replaced_id else self.content_before

    def restore(self, author=None) -> Page:
        """Make this revision the page's content again (as a new revision)."""
        page = self.page
        page.title = self.title
        page.content = self.content
        page.save(author=author, note=f"restored revision {self.pk}", kind="restore")
        return page


class RateCount(models.Model):
    """One rate limit's hits in one clock window (`mrblue.shared.rate_limits`), when the cache
    is not Redis: in a table of its own, so the database cache's culling (Django's `MAX_ENTRIES`)
    never drops a live count. Rows outlive their window by one window, then are swept."""

    name = models.CharField(max_length=250, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires = models.FloatField(db_index=True, help_text="A Unix time: swept after it.")

    def __str__(self):
        return f"{self.name} = {self.count}"

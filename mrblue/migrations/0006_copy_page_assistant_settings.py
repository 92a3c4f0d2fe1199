"""Copy each page's profile and instructions from the editor's Page columns (which the next
editor migration removes) to Mr. Blue's PageAssistant; backwards, copy them back."""

from django.db import migrations


def to_page_assistants(apps, schema_editor):
    """One PageAssistant for every page that chose a profile or wrote instructions."""
    Page = apps.get_model("editor", "Page")
    PageAssistant = apps.get_model("mrblue", "PageAssistant")
    pages = Page.objects.exclude(assistant_profile__isnull=True, assistant_instructions="")
    for page in pages:
        PageAssistant.objects.update_or_create(
            page=page,
            defaults={
                "profile_id": page.assistant_profile_id,
                "instructions": page.assistant_instructions,
            },
        )


def to_page_columns(apps, schema_editor):
    """Put every PageAssistant's values back on its page."""
    Page = apps.get_model("editor", "Page")
    PageAssistant = apps.get_model("mrblue", "PageAssistant")
    for assistant in PageAssistant.objects.all():
        Page.objects.filter(pk=assistant.page_id).update(
            assistant_profile_id=assistant.profile_id,
            assistant_instructions=assistant.instructions,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("editor", "0002_pagerevision_call_id_pagerevision_content_before_and_more"),
        ("mrblue", "0005_pageassistant"),
    ]

    operations = [migrations.RunPython(to_page_assistants, to_page_columns)]

"""Each conversation counts its stored log messages, so the log need not count them per batch."""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_stored_messages(apps, schema_editor):
    """Set each existing conversation's count from the messages it holds."""
    Conversation = apps.get_model("mrblue", "Conversation")
    LogMessage = apps.get_model("mrblue", "LogMessage")
    held = (
        LogMessage.objects.filter(conversation=OuterRef("pk"))
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    Conversation.objects.update(log_messages=Coalesce(Subquery(held), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("mrblue", "0011_profile_transcription_prompt"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="log_messages",
            field=models.PositiveIntegerField(
                default=0,
                editable=False,
                help_text="How many log messages it holds (kept by the transcript log).",
            ),
        ),
        migrations.RunPython(count_stored_messages, migrations.RunPython.noop),
    ]

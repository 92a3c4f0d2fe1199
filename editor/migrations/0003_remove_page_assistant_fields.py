"""Mr. Blue's per-page settings moved to `mrblue.PageAssistant` (copied there first)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("editor", "0002_pagerevision_call_id_pagerevision_content_before_and_more"),
        ("mrblue", "0006_copy_page_assistant_settings"),
    ]

    operations = [
        migrations.RemoveField(model_name="page", name="assistant_instructions"),
        migrations.RemoveField(model_name="page", name="assistant_profile"),
    ]

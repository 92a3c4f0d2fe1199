"""`manage.py demo_data` is idempotent and makes a usable demo."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from editor.models import Page
from mrblue.models import AssistantProfile

pytestmark = pytest.mark.django_db


def test_running_twice_leaves_one_of_each(settings, capsys):
    settings.MRBLUE_DEMO_PASSWORD = "tango-demo-42"
    call_command("demo_data")
    call_command("demo_data")
    User = get_user_model()
    assert Page.objects.filter(slug="mundo-tango").count() == 1
    assert AssistantProfile.objects.count() == 1
    assert AssistantProfile.objects.get().is_default
    assert User.objects.filter(username="admin").count() == 1
    assert User.objects.filter(username="editor").count() == 1
    assert Group.objects.filter(name="Editors").count() == 1
    page = Page.objects.get()
    assert [block["type"] for block in page.content] == [
        "heading",
        "paragraph",
        "paragraph",
        "button",
    ]
    editor = authenticate(username="editor", password="tango-demo-42")
    assert editor is not None and editor.has_perm("editor.change_page")
    assert not editor.is_staff
    admin = authenticate(username="admin", password="tango-demo-42")
    assert admin is not None and admin.is_superuser


def test_a_generated_password_is_printed_once_and_kept(settings, capsys):
    settings.MRBLUE_DEMO_PASSWORD = ""
    call_command("demo_data")
    first = capsys.readouterr().out
    assert "Demo password (shown once): " in first
    password = first.split("Demo password (shown once): ")[1].split()[0]
    call_command("demo_data")
    assert "Demo password" not in capsys.readouterr().out
    assert authenticate(username="editor", password=password) is not None


def test_a_second_run_keeps_passwords_changed_since_and_a_flag_sets_them_again(settings, capsys):
    # `serve` runs demo_data at every start: it must not undo a password change.
    settings.MRBLUE_DEMO_PASSWORD = "tango-demo-42"
    call_command("demo_data")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-the-admin-7")
    admin.save()
    settings.MRBLUE_DEMO_PASSWORD = "another-demo-99"
    call_command("demo_data")
    assert "passwords kept" in capsys.readouterr().out
    assert authenticate(username="admin", password="changed-by-the-admin-7") is not None
    assert authenticate(username="editor", password="tango-demo-42") is not None

    call_command("demo_data", "--reset-passwords")
    for username in ("admin", "editor"):
        assert authenticate(username=username, password="another-demo-99") is not None


def test_resetting_without_a_configured_password_prints_a_new_one(settings, capsys):
    settings.MRBLUE_DEMO_PASSWORD = "tango-demo-42"
    call_command("demo_data")
    settings.MRBLUE_DEMO_PASSWORD = ""
    call_command("demo_data", "--reset-passwords")
    out = capsys.readouterr().out
    password = out.split("Demo password (shown once): ")[1].split()[0]
    assert authenticate(username="admin", password=password) is not None
    assert authenticate(username="editor", password="tango-demo-42") is None

"""`manage.py demo_data`: the demo page, the default profile and two users. Idempotent.

A user's password is set when the user is made, never again (`serve` runs this at every start,
and a password changed since must stay changed): `--reset-passwords` sets both again, to
`MRBLUE_DEMO_PASSWORD` or, when that is empty, to a new one printed once.
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from editor.models import Page
from mrblue.app_settings import app_settings
from mrblue.models import AssistantProfile

DEMO_SLUG = "mundo-tango"
DEMO_BLOCKS = [
    {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
    {
        "id": "intro",
        "type": "paragraph",
        "text": "Tango classes, milongas and festivals for every level, all year round.",
        "style": {},
    },
    {
        "id": "schedule",
        "type": "paragraph",
        "text": "Beginners meet on Tuesdays at seven; the milonga starts on Saturdays at nine.",
        "style": {},
    },
    {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
]
EDITOR_PERMISSIONS = ("view_page", "change_page", "add_page")


class Command(BaseCommand):
    """Create the demo data, or bring it back to its demo state without duplicating it."""

    help = "Create the Mundo Tango demo page, the default profile, and the users admin/editor."

    def add_arguments(self, parser):
        """`--reset-passwords`."""
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the passwords of admin and editor again (to MRBLUE_DEMO_PASSWORD, or to a "
            "new one, printed once).",
        )

    @transaction.atomic
    def handle(self, *args, reset_passwords=False, **options):
        """Make each object if missing; a user made now (or with `--reset-passwords`, both) gets
        the demo password."""
        AssistantProfile.get_default()
        page, created = Page.objects.get_or_create(
            slug=DEMO_SLUG, defaults={"title": "Mundo Tango", "content": DEMO_BLOCKS}
        )
        group, _ = Group.objects.get_or_create(name="Editors")
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="editor", codename__in=EDITOR_PERMISSIONS
            )
        )
        password = app_settings.DEMO_PASSWORD
        generated = False
        if not password:
            password, generated = secrets.token_urlsafe(12), True
        admin_set = self._user("admin", password, reset_passwords, superuser=True)
        editor_set = self._user("editor", password, reset_passwords, superuser=False)
        editor = get_user_model().objects.get(username="editor")
        editor.groups.add(group)
        if generated and (admin_set or editor_set):
            self.stdout.write(f"Demo password (shown once): {password}")
        kept = "" if admin_set and editor_set else " (passwords kept: --reset-passwords sets them)"
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: page '{page.title}' ({'created' if created else 'kept'}), "
                f"users admin and editor{kept}."
            )
        )

    def _user(self, username, password, reset, superuser) -> bool:
        """Create the user with `password`, or give it `password` if `reset`. True if its
        password was set."""
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"is_staff": superuser, "is_superuser": superuser, "email": ""},
        )
        if created or reset:
            user.set_password(password)
            user.save()
        return created or reset

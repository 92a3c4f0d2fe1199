"""`manage.py demo_data`: the demo page, the default profile and two users. Idempotent."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from editor.models import Page
from mrblue.conf import app_settings
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

    @transaction.atomic
    def handle(self, *args, **options):
        """Make each object if missing; set the demo password on both users."""
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
        admin_new = self._user("admin", password, generated, superuser=True)
        editor_new = self._user("editor", password, generated, superuser=False)
        editor = get_user_model().objects.get(username="editor")
        editor.groups.add(group)
        if generated and (admin_new or editor_new):
            self.stdout.write(f"Demo password (shown once): {password}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: page '{page.title}' ({'created' if created else 'kept'}), "
                "users admin and editor."
            )
        )

    def _user(self, username, password, generated, superuser) -> bool:
        """Create the user, or reset its password to the configured one. True if created."""
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"is_staff": superuser, "is_superuser": superuser, "email": ""},
        )
        # A generated password is only given to new users: re-running must not lock anyone out.
        if created or not generated:
            user.set_password(password)
            user.save()
        return created

"""Shared fixtures: factories that make users, profiles and pages on demand."""

import gc
import os
import uuid

import pytest
from django.contrib.auth.models import Permission

from tests.security import secret_scan
from tests.support.browser import chromium, close_settled, log_in
from tests.support.live import serving


def pytest_configure(config):
    """In CI, refuse to run without PostgreSQL and Redis rather than skip their tests quietly."""
    if os.environ.get("CI") and not os.environ.get("MRBLUE_TEST_DEFAULT_SERVICES"):
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
        if missing:
            raise pytest.UsageError(
                f"CI must run against PostgreSQL and Redis, but {', '.join(missing)} is not set"
                " (see .ci/run)."
            )
    # Watches every response, template, log record and live server for secrets.
    config.pluginmanager.register(secret_scan, "secret-scan")


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Each test counts its rate limits afresh: the cache (shared by the whole run, and by
    every run on one Redis) gets a key prefix of the test's own."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{os.getpid()}-{uuid.uuid4().hex}"}
        for name, config in settings.CACHES.items()
    }


@pytest.fixture
def make_user(django_user_model):
    """Return a factory: make_user(name, perms=(...), staff=False, superuser=False)."""

    def make(username="someone", perms=(), staff=False, superuser=False, password="pw-12345!"):
        user = django_user_model.objects.create_user(
            username=username, password=password, is_staff=staff or superuser
        )
        user.is_superuser = superuser
        user.save()
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return user

    return make


@pytest.fixture
def editor_user(make_user):
    """A user who may edit pages (but is not staff)."""
    return make_user("editor", perms=("editor.change_page", "editor.view_page"))


@pytest.fixture
def make_profile(db):
    """Return a factory: make_profile(**fields) saves a full_clean()ed AssistantProfile."""
    from mrblue.models import AssistantProfile

    def make(**fields):
        fields.setdefault("name", f"Profile {AssistantProfile.objects.count() + 1}")
        profile = AssistantProfile(**fields)
        profile.full_clean()
        profile.save()
        return profile

    return make


@pytest.fixture
def make_conversation(make_user, make_page):
    """Return a factory: make_conversation(owner=None, page=None, **fields) saves a
    Conversation (by default of a new editor `owner` on a new page `home`)."""
    from mrblue.models import Conversation

    def make(owner=None, page=None, **fields):
        owner = owner or make_user("owner", perms=("editor.change_page", "editor.view_page"))
        page = page or make_page()
        defaults = {"page_title": page.title, "provider": "local", "model": "m", "session": {}}
        return Conversation.objects.create(user=owner, page=page, **{**defaults, **fields})

    return make


@pytest.fixture
def make_page(db):
    """Return a factory: make_page(slug, title, blocks, **fields) saves a Page."""
    from editor.models import Page

    def make(slug="home", title="Home", blocks=None, **fields):
        if blocks is None:
            blocks = [
                {"id": "h1", "type": "heading", "text": "Hello", "style": {}},
                {"id": "p1", "type": "paragraph", "text": "Welcome here.", "style": {}},
            ]
        page = Page(slug=slug, title=title, content=blocks, **fields)
        page.full_clean()
        page.save()
        return page

    return make


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker):
    """A real Daphne serving the app on a free port, sharing the test database."""
    with serving(django_db_blocker) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """A browser per module: Playwright's sync API holds the thread's event loop while open,
    and asyncio tests elsewhere need the thread free."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def browser_page(browser):
    """A fresh browser context and page for one test."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    close_settled(context)


@pytest.fixture
def login(daphne_server):
    """Return a function that logs a browser page in through the login form."""

    def do_login(page, username, password="pw-12345!"):
        log_in(page, daphne_server.url, username, password)

    return do_login


def make_superuser(username: str, password: str = "pw-12345!"):
    """A superuser for admin checks (outside fixtures, e.g. inside a browser test)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(username, "", password)


@pytest.fixture
async def close_async_connections():
    """Async ORM calls run on asgiref's worker thread, whose connection outlives the test:
    close it afterwards, or PostgreSQL refuses to drop the test database at the end."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(scope="session", autouse=True)
def close_orphaned_connections(django_db_setup):
    """A connection opened on a test event loop's worker thread (`thread_sensitive=False`)
    outlives the thread until garbage collection closes it: collect before the test database
    is dropped, which PostgreSQL refuses while a session is open. The log writer's thread
    keeps its connection until idle: closed too."""
    yield
    from mrblue.conversation_log import writer as log_writer

    log_writer.close()
    gc.collect()

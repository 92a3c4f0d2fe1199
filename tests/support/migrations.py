"""Moving the test database through the migrations, for tests of a data migration."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate the test database to `targets` (`(app, None)`: none of that app's); return the
    models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def migrate_to_latest():
    """Migrate the test database to every app's latest migration (a test's clean-up)."""
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

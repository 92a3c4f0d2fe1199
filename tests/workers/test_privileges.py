"""`serve`'s safety checks that need no running site: which hosts are private, when DEBUG is
warned of, which database directory may be handed to the service user, and moving an older
install's database there without losing a row."""

import json
import shutil
import sqlite3
import sys

import pytest

from mrblue.project.privileges import (
    Refusal,
    debug_warning,
    ensure_user,
    foreign_files,
    is_loopback,
    move_legacy_database,
    probe_problem,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("mrblue.example.com", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_debug_on_a_public_host_is_warned_of_and_says_what_to_do():
    warning = debug_warning("0.0.0.0", debug=True)
    assert "WARNING: serving on 0.0.0.0 with DEBUG on" in warning
    assert "DEBUG=0" in warning and "SECRET_KEY" in warning and "Production set-up" in warning
    assert debug_warning("0.0.0.0", debug=False) is None
    assert debug_warning("127.0.0.1", debug=True) is None


def test_only_a_directory_of_the_databases_own_files_can_be_handed_over(tmp_path):
    database = tmp_path / "db.sqlite3"
    own = ["db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "db.sqlite3-journal"]
    assert foreign_files(database, own) == []
    assert foreign_files(database, [*own, "manage.py", "other.sqlite3"]) == [
        "manage.py",
        "other.sqlite3",
    ]


def test_root_is_no_service_user():
    with pytest.raises(Refusal, match="is root"):
        ensure_user("root")


def wal_database(path, rows: int) -> sqlite3.Connection:
    """A WAL-mode database with `rows` rows written, its connection left open."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (n INTEGER)")
    db.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(rows)])
    return db


def count(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM t").fetchone()[0]


def test_an_older_installs_database_moves_with_what_its_wal_holds(tmp_path):
    # The state a crash leaves: rows only in the -wal file, no process holding it.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    live = wal_database(tmp_path / "db.sqlite3", rows=50)
    for suffix in ("", "-wal", "-shm"):
        shutil.copy(tmp_path / f"db.sqlite3{suffix}", crashed / f"db.sqlite3{suffix}")
    live.close()
    assert (crashed / "db.sqlite3-wal").stat().st_size > 0

    moved = move_legacy_database(crashed / "db.sqlite3", tmp_path / "data")
    assert moved == tmp_path / "data" / "db.sqlite3"
    assert sorted(p.name for p in crashed.iterdir()) == []
    assert sorted(p.name for p in moved.parent.iterdir()) == ["db.sqlite3"]
    assert count(moved) == 50


def test_a_database_in_use_or_a_second_one_is_not_moved(tmp_path):
    legacy = tmp_path / "db.sqlite3"
    db = wal_database(legacy, rows=3)
    with pytest.raises(Refusal, match="in use"):
        move_legacy_database(legacy, tmp_path / "data")
    db.close()
    assert count(legacy) == 3 and not (tmp_path / "data").exists()

    (tmp_path / "data").mkdir()
    wal_database(tmp_path / "data" / "db.sqlite3", rows=1).close()
    with pytest.raises(Refusal, match="two databases"):
        move_legacy_database(legacy, tmp_path / "data")
    assert count(legacy) == 3 and count(tmp_path / "data" / "db.sqlite3") == 1


def report(python=sys.version, closed=()):
    """The first line the probe prints."""
    return json.dumps({"python": python, "closed": list(closed)}) + "\n"


def test_what_the_probe_found_is_said_with_what_to_do():
    assert probe_problem("mrblue", 0, report(), "") is None
    closed = probe_problem("mrblue", 1, report(closed=["/root"]), "ModuleNotFoundError")
    assert "may not enter /root" in closed and "`setfacl -m u:mrblue:x /root`" in closed
    other = probe_problem("mrblue", 0, report(python="3.11.2 (main)"), "")
    assert "another Python for the user 'mrblue' (3.11.2, not" in other
    failed = probe_problem("mrblue", 1, report(), "x\nsqlite3.OperationalError: unable to open")
    assert (
        "cannot start Mr. Blue" in failed and "(sqlite3.OperationalError: unable to open)" in failed
    )
    assert "cannot start Mr. Blue" in probe_problem("mrblue", 1, "", "Permission denied")

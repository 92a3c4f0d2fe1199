"""Whom `serve`'s processes run as, when it is started as root.

The web process and the engine workers parse what strangers send (HTTP, SDP offers, audio), so
as root they run as a dedicated system user instead (default `mrblue`, made here if missing);
supervisord stays root, only to manage them. That user needs to read the checkout, its `.venv`
and the Python it was made from (a probe starts it as the user first), and to write the SQLite
database's directory (WAL mode keeps `-wal` and `-shm` files next to the database): the default
database lives in `data/`, a directory of its own that becomes the user's. The settings from
`.env` (which may be root's, mode 600) reach the processes in supervisord's environment, read by
root as systemd's `EnvironmentFile` would be. A closed directory on the way to the code (a
Python under /root) gets an ACL entry that lets the user pass through. Where one of these cannot
be had, `prepare` refuses and says how to go on, before anything starts.

`DEBUG` on a public address is the other unsafe start: `debug_warning` says what to do instead.
"""

import ipaddress
import json
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mrblue.app_settings import BASE_DIR, DATA_DIR, LEGACY_DATABASE

SERVICE_USER = "mrblue"
MAX_DIRECTORIES_OPENED = 8  # closed directories on the way to the code it may open, at most
# The files SQLite keeps for a database, by the suffix of their names.
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")
# Run as the service user: the first directory it cannot enter on the way to each path given
# (the checkout, the venv, the venv's Python), its Python's version, then what every process
# does first (Django set up, the database reached).
PROBE = """
import json, os, sys
from pathlib import Path
closed = [
    str(d) for p in sys.argv[1:] for d in (*reversed(Path(p).parents), Path(p))
    if not os.access(d, os.X_OK)
]
print(json.dumps({"python": sys.version, "closed": closed[:1]}), flush=True)
import daphne, django
django.setup()
from django.db import connection
connection.ensure_connection()
"""


class Refusal(Exception):
    """Why the processes cannot run as the service user, and what to do instead."""


@dataclass(frozen=True)
class ServiceUser:
    """The account the web process and the workers run as."""

    name: str
    uid: int
    gid: int
    home: str

    @property
    def environment(self) -> dict[str, str]:
        """What a login would set (supervisord changes only the uid and groups)."""
        return {"HOME": self.home, "USER": self.name, "LOGNAME": self.name}


def is_loopback(host: str) -> bool:
    """Whether `host` (a `--host` value) is reachable from this machine only."""
    if host.lower() in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def debug_warning(host: str, debug: bool) -> str | None:
    """The warning for serving `host` with `DEBUG` on, or None when that is safe."""
    if not debug or is_loopback(host):
        return None
    bar = "!" * 78
    return (
        f"{bar}\n"
        f"WARNING: serving on {host} with DEBUG on. Anyone who reaches this address sees\n"
        "Django's debug pages (settings, code, tracebacks), and unless SECRET_KEY is set the\n"
        "site signs sessions with the public development key. DEBUG is for loopback only.\n"
        "In production set DEBUG=0, SECRET_KEY and ALLOWED_HOSTS (in .env or the environment)\n"
        'and put a TLS proxy in front: see mrblue/docs/deployment.md, "Production set-up".\n'
        f"{bar}"
    )


def foreign_files(database: Path, names: list[str]) -> list[str]:
    """The `names` in the database's directory that are not the database's own files: the
    directory can be the service user's only when there are none."""
    own = {database.name + suffix for suffix in SQLITE_SUFFIXES}
    return sorted(name for name in names if name not in own)


def prepare(name: str, database: Path | None, database_set: bool, environ: dict) -> ServiceUser:
    """Make ready to run the processes as `name` (created if missing): the SQLite `database`
    (None for another database) in a directory of its own that is the user's, and a probe that
    the user can set up Django from the checkout. `database_set` says whether `DATABASE_URL`
    names it (else it is the default, which may move from the project root into `data/`).
    Raises Refusal saying what to do."""
    user = ensure_user(name)
    if database is not None:
        if database == LEGACY_DATABASE and not database_set:
            database = move_legacy_database(LEGACY_DATABASE, DATA_DIR)
        hand_over_directory(database, user)
    probe(user, environ)
    return user


def ensure_user(name: str) -> ServiceUser:
    """The system user `name`, made (no home, no login shell) if missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = None
    if entry is None:
        _make_user(name)
        entry = pwd.getpwnam(name)
    if entry.pw_uid == 0:
        raise Refusal(
            f"the user {name!r} is root. Pass `--user <an unprivileged user>` (default "
            f"{SERVICE_USER!r}, made if missing), or run serve as a non-root user."
        )
    return ServiceUser(name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def _make_user(name: str) -> None:
    useradd = shutil.which("useradd")
    if useradd is None:
        raise Refusal(
            f"there is no user {name!r} and no `useradd` to make one. Make a system user "
            f"yourself (e.g. `adduser -S -H -s /sbin/nologin {name}`) and start again, pass "
            "`--user <an existing unprivileged user>`, or run serve as a non-root user."
        )
    print(f"==> creating the system user {name!r} to run the processes", flush=True)
    made = subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"]
        + ["--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
    )
    if made.returncode:
        raise Refusal(
            f"`useradd` could not make the user {name!r} ({made.stderr.strip()}). Make an "
            "unprivileged system user yourself and pass `--user <it>`, or run serve as a "
            "non-root user."
        )


def move_legacy_database(legacy: Path, data_dir: Path) -> Path:
    """Move the database an older install made in the project root into `data_dir` (its WAL
    folded in first, so it is one file), and return its new path. Nothing is lost: a database
    still in use, or one in `data_dir` already, is a Refusal."""
    target = data_dir / legacy.name
    if target.exists():
        raise Refusal(
            f"there are two databases, {legacy} (an older install's) and {target}. Keep the one "
            "you want in data/ and move the other away, then start again."
        )
    connection = sqlite3.connect(legacy)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    left = [f.name for f in _sqlite_files(legacy) if f != legacy]
    if left:
        raise Refusal(
            f"{legacy} is in use ({', '.join(left)} remain): stop what uses it, then start again."
        )
    data_dir.mkdir(mode=0o700, exist_ok=True)
    legacy.rename(target)
    print(f"==> moved {legacy.name} into {data_dir} (the processes' user owns that)", flush=True)
    return target


def hand_over_directory(database: Path, user: ServiceUser) -> None:
    """Make the database's directory, and the database's files in it, the user's own (mode
    700: it holds password hashes), if the directory holds nothing else."""
    directory = database.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    others = foreign_files(database, [entry.name for entry in directory.iterdir()])
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise Refusal(
            f"the SQLite database {database} shares its directory with other files ({shown}), "
            f"and the user {user.name!r} must write that directory (SQLite's -wal and -shm "
            "files). Move the database into a directory of its own and set DATABASE_URL to "
            "it (or unset DATABASE_URL for the default, data/db.sqlite3), or use PostgreSQL."
        )
    for path in (directory, *_sqlite_files(database)):
        os.chown(path, user.uid, user.gid)
    directory.chmod(0o700)


def probe(user: ServiceUser, environ: dict) -> None:
    """Run the venv's Python as `user`, from the checkout, as every process will start: a
    Refusal saying why and what to do unless it starts as it does for root. A closed
    directory on the way (pyenv's /root on the project's machines) is opened for the user to
    pass through, not to read, where `setfacl` is at hand."""
    for _ in range(MAX_DIRECTORIES_OPENED):
        returncode, stdout, stderr = _run_probe(user, environ)
        closed = closed_directory(stdout)
        if closed is None or not let_through(user, closed):
            break
    problem = probe_problem(user.name, returncode, stdout, stderr)
    if problem:
        raise Refusal(problem)


def _run_probe(user: ServiceUser, environ: dict) -> tuple[int, str, str]:
    paths = [str(BASE_DIR), sys.prefix, sys.base_prefix]
    try:
        result = subprocess.run(
            [sys.executable, "-c", PROBE, *paths],
            cwd=BASE_DIR,
            env={**environ, **user.environment},
            user=user.uid,
            group=user.gid,
            extra_groups=os.getgrouplist(user.name, user.gid),
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return 1, "", str(error)
    return result.returncode, result.stdout, result.stderr


def closed_directory(stdout: str) -> str | None:
    """The first directory the probe's user may not enter, from its report, if any."""
    try:
        closed = json.loads(stdout.splitlines()[0])["closed"]
    except (IndexError, ValueError, KeyError, TypeError):
        return None
    return closed[0] if closed else None


def let_through(user: ServiceUser, directory: str) -> bool:
    """Let `user` pass through `directory` (an ACL entry: enter, not list or read), as the
    deployment docs tell operators; whether it could (not without `setfacl`, Debian package acl)."""
    setfacl = shutil.which("setfacl")
    if setfacl is None:
        return False
    print(
        f"==> letting the user {user.name!r} through {directory}, where the checkout, its .venv "
        f"or their Python lie (setfacl -m u:{user.name}:x {directory})",
        flush=True,
    )
    done = subprocess.run([setfacl, "-m", f"u:{user.name}:x", directory], capture_output=True)
    return done.returncode == 0


def probe_problem(name: str, returncode: int, stdout: str, stderr: str) -> str | None:
    """What the probe's output says is wrong for the user `name`, with what to do; None if
    nothing is."""
    try:
        report = json.loads(stdout.splitlines()[0])
    except (IndexError, ValueError):
        report = {"python": sys.version, "closed": []}
    if report["closed"]:
        closed = report["closed"][0]
        return (
            f"the user {name!r} cannot reach the checkout, its .venv and their Python "
            f"({BASE_DIR}, {sys.prefix}, {sys.base_prefix}): it may not enter {closed}. Let it "
            f"through with `setfacl -m u:{name}:x {closed}` (Debian package acl), or put them "
            "where every user may read them (e.g. the checkout under /srv, its .venv made by "
            "/usr/bin/python3), or run serve as a non-root user."
        )
    if report["python"] != sys.version:
        return (
            f"the venv's Python starts as another Python for the user {name!r} "
            f"({report['python'].split()[0]}, not {sys.version.split()[0]}): make the .venv "
            "from a Python every user may read (e.g. /usr/bin/python3), or run serve as a "
            "non-root user."
        )
    if returncode:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        return (
            f"the user {name!r} cannot start Mr. Blue from {BASE_DIR} ({last}). It must read "
            "the checkout and its .venv, and reach the database (a SQLite database's directory "
            "too); or run serve as a non-root user who owns the checkout."
        )
    return None


def _sqlite_files(database: Path) -> list[Path]:
    files = (database.with_name(database.name + suffix) for suffix in SQLITE_SUFFIXES)
    return [path for path in files if path.exists()]

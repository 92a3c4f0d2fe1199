"""`serve`'s process runner for real: supervisord starts the web process and two engine workers
as one command (as root: as the system user `mrblue`, on a database that user may write),
restarts a worker that crashes, and stops them all on SIGTERM; what it refuses, and warns of."""

import os
import pwd
import queue
import secrets
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from mrblue.project import privileges
from mrblue.project.privileges import SERVICE_USER, ensure_user
from tests.support.live import ENGINE_KEY, ROOT

pytestmark = [pytest.mark.live]
DEMO_PASSWORD = "serve-demo-" + secrets.token_hex(4)
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="serve drops privileges only as root")


def free_port_block(size: int) -> int:
    """A port P with P .. P+size-1 all free now."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size < 65536 and all(_free(base + i) for i in range(1, size)):
            return base


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for(read, condition, timeout: float = 120.0):
    """Call `read()` until `condition(value)` holds (a refused connection counts as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = read()
            if condition(value):
                return value
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the processes")


def health(port: int) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()


def pid_of(worker_health: dict) -> int:
    """A worker's process id, from its id (`host-pid-random`)."""
    return int(worker_health["worker_id"].rsplit("-", 2)[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(runner: subprocess.Popen) -> None:
    """Stop supervisord as Ctrl-C would, so it stops its processes; kill it if it hangs."""
    if runner.poll() is None:
        runner.send_signal(signal.SIGTERM)
        try:
            runner.wait(60)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait()


def own_database() -> Path:
    """A fresh SQLite database with the demo data, alone in a new directory (as `serve`'s
    default, `data/`), made by this (maybe root) user: `serve` must hand it over."""
    directory = Path(tempfile.mkdtemp(prefix="mrblue-serve-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
        "MRBLUE_DEMO_PASSWORD": DEMO_PASSWORD,
    }
    for command in (["migrate", "--noinput"], ["demo_data"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return directory


def children(pid: int) -> dict[str, int]:
    """The processes `pid` started, by the port their Daphne serves ("-p PORT")."""
    found = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            parent = _field(status.read_text(), "PPid")
            command = (status.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        if parent == str(pid) and b"-p" in command:
            found[command[command.index(b"-p") + 1].decode()] = int(status.parent.name)
    return found


def uids(pid: int) -> set[int]:
    """The real, effective, saved and file-system user ids of `pid`."""
    return {int(uid) for uid in _field(Path(f"/proc/{pid}/status").read_text(), "Uid").split()}


def _field(status: str, name: str) -> str:
    return next(
        line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith(name)
    )


def change_a_page(port: int) -> None:
    """Log in as the demo editor and change the demo page: the database is written."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        client.get("/accounts/login/")
        login = {"username": "editor", "password": DEMO_PASSWORD}
        login["csrfmiddlewaretoken"] = client.cookies["csrftoken"]
        assert client.post("/accounts/login/", data=login).status_code == 302
        assert client.get("/editor/mundo-tango/").status_code == 200
        call = {
            "name": "update_text",
            "arguments": {"block_id": "heading", "text": "Hi from serve"},
        }
        headers = {"X-CSRFToken": client.cookies["csrftoken"]}
        assert client.post("/editor/mundo-tango/tools/", json=call, headers=headers).is_success


@pytest.fixture
def service_user():
    """As root, the user `serve` runs the site as (made here if missing), let through to the
    checkout, its venv and their Python as the deployment docs tell an operator where one lies in a
    closed directory (pyenv's /root on the project's machines); the ACL entries made here are
    taken back after. None when not root."""
    if os.geteuid() != 0:
        yield None
        return
    user = ensure_user(SERVICE_USER)
    added = {}  # directory: whether it had an ACL of its own before
    for path in (ROOT, Path(sys.prefix), Path(sys.base_prefix)):
        for directory in (*reversed(path.parents), path):
            if directory not in added and not may_enter(user, directory):
                extended = subprocess.run(["getfacl", "-s", "-p", directory], capture_output=True)
                added[directory] = bool(extended.stdout.strip())
                subprocess.run(["setfacl", "-m", f"u:{user.name}:x", directory], check=True)
    yield user
    for directory, extended in added.items():
        undo = ["-x", f"u:{user.name}"] if extended else ["-b"]  # -b: back to plain modes
        subprocess.run(["setfacl", *undo, directory], check=True)


def may_enter(user, directory: Path) -> bool:
    """Whether `user` may enter `directory` (the kernel's answer, ACLs included)."""
    check = ["test", "-x", str(directory)]
    return subprocess.run(check, user=user.uid, group=user.gid, extra_groups=[]).returncode == 0


def test_one_command_runs_the_site_and_two_workers_restarts_a_crash_and_stops_all(
    tmp_path, service_user
):
    port = free_port_block(3)
    data = own_database()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
        "MRBLUE_ENGINE_API_KEY": ENGINE_KEY,
        "MRBLUE_ENGINE_POOL": "serve-" + secrets.token_hex(4),
        "MRBLUE_ENGINE_HEARTBEAT_SECONDS": "0.3",
        "MRBLUE_ENGINE_DRAIN_SECONDS": "5",
        "MRBLUE_WEBRTC_HOSTS": "127.0.0.1",
    }
    runner = subprocess.Popen(
        [sys.executable, "-m", "mrblue.project.processes", "--port", str(port), "--workers", "2"]
        + ["--run-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: health(port), lambda h: h["placeable"] == 2)
        # As root, the site runs as the service user (supervisord stays root); else as we do.
        user = service_user.uid if service_user else os.getuid()
        processes = children(runner.pid)  # the runner became supervisord
        assert sorted(processes) == sorted(str(p) for p in (port, port + 1, port + 2))
        assert all(uids(pid) == {user} for pid in processes.values())
        assert uids(runner.pid) == {os.geteuid()}
        change_a_page(port)
        first = health(port + 1)
        os.kill(pid_of(first), signal.SIGKILL)  # a crash: supervisord starts it again
        restarted = wait_for(
            lambda: health(port + 1),
            lambda h: h["status"] == "ok" and h["worker_id"] != first["worker_id"],
        )
        assert restarted["sessions"] == 0
        wait_for(lambda: health(port), lambda h: h["placeable"] == 2)

        runner.send_signal(signal.SIGTERM)
        assert runner.wait(60) == 0
        for p in (port, port + 1, port + 2):
            assert _free(p), f"port {p} is still served"
        assert not alive(pid_of(restarted))
        # Nothing critical in supervisord's own log (as root it would say so unless told whom
        # to run as); its children's output goes to the terminal, not there.
        log = (tmp_path / "supervisord.log").read_text()
        assert "CRIT" not in log and "exited: engine-1" in log
        # What the site wrote is there, in files the site's user owns.
        with sqlite3.connect(data / "db.sqlite3") as db:
            (content,) = db.execute("SELECT content FROM editor_page").fetchone()
        assert "Hi from serve" in content
        assert {path.stat().st_uid for path in [data, *data.iterdir()]} == {user}
    finally:
        stop(runner)
        shutil.rmtree(data)


def runner_for(
    database: Path, run_dir: Path, *args: str, path: str | None = None, **popen
) -> subprocess.Popen:
    """`python -m mrblue.project.processes` on `database` with the development settings (and `path`
    as its PATH, if given)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    if path is not None:
        env["PATH"] = path
    command = [sys.executable, "-m", "mrblue.project.processes", "--run-dir", str(run_dir), *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, text=True, **popen)


def closed_to_others() -> Path | None:
    """The first directory on the way to the checkout, its venv or their Python that a user
    with no group of root's may not enter (pyenv's /root on the project's machines), if any."""
    for path in (ROOT, Path(sys.prefix), Path(sys.base_prefix)):
        for directory in (*reversed(path.parents), path):
            if not directory.stat().st_mode & stat.S_IXOTH:
                return directory
    return None


@as_root
@pytest.mark.parametrize("case", ["shared directory", "closed directory", "unreachable database"])
def test_as_root_it_starts_nothing_it_cannot_run_unprivileged_and_says_how(tmp_path, request, case):
    name = "mrblue-t" + secrets.token_hex(3)  # a user of this test's own, made by serve
    path = None  # serve's PATH: the test's own
    outer = Path(tempfile.mkdtemp(prefix="mrblue-refused-"))  # root's alone (mode 700)
    database = outer / "data" / "db.sqlite3"
    if case == "shared directory":
        database = outer / "db.sqlite3"
        (outer / "notes").write_text("not the database's")
        wanted = ["shares its directory with other files (notes)", "set DATABASE_URL"]
    elif case == "closed directory":
        closed = closed_to_others()
        if closed is None:
            pytest.skip("the checkout, its venv and their Python are open to every user here")
        wanted = [f"may not enter {closed}", f"`setfacl -m u:{name}:x {closed}`"]
        path = "/usr/sbin"  # useradd, but no setfacl to open the closed directory with
    else:  # the service user is let through to the code, but not to the database
        name = request.getfixturevalue("service_user").name
        wanted = ["cannot start Mr. Blue", "unable to open database file"]
    port = str(free_port_block(3))
    runner = runner_for(
        database,
        tmp_path,
        *("--user", name, "--port", port),
        path=path,
        stderr=subprocess.PIPE,
    )
    try:
        _, stderr = runner.communicate(timeout=120)
        assert runner.returncode == 1
        assert "serve will not run the site as root" in stderr
        assert all(text in stderr for text in wanted), stderr
        assert not (tmp_path / "supervisord.conf").exists()
        entry = pwd.getpwnam(name)  # made as a system user without home or shell
        assert 0 < entry.pw_uid < 1000 and entry.pw_shell == "/usr/sbin/nologin"
        assert not Path(entry.pw_dir).exists()
    finally:
        stop(runner)
        if name.startswith("mrblue-t"):
            subprocess.run(["userdel", name], check=False, stderr=subprocess.DEVNULL)
        shutil.rmtree(outer)


@as_root
def test_as_root_it_lets_its_user_through_a_closed_directory_to_the_code(capsys):
    closed = closed_to_others()
    if closed is None:
        pytest.skip("the checkout, its venv and their Python are open to every user here")
    name = "mrblue-t" + secrets.token_hex(3)
    outer = Path(tempfile.mkdtemp(prefix="mrblue-through-"))
    outer.chmod(0o755)  # the database's directory within is handed to the user
    database = outer / "data" / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    try:
        user = privileges.prepare(name, database, True, env)  # no Refusal: it starts
        acl = subprocess.run(["getfacl", "-p", closed], capture_output=True, text=True).stdout
        assert f"user:{user.name}:--x" in acl  # through, not read
        assert f"through {closed}" in capsys.readouterr().out
    finally:
        for directory in (closed, *closed.parents):
            subprocess.run(["setfacl", "-x", f"u:{name}", directory], capture_output=True)
        subprocess.run(["userdel", name], check=False, stderr=subprocess.DEVNULL)
        shutil.rmtree(outer)


def test_a_public_host_with_debug_on_is_warned_of_on_stderr(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is on no interface: nothing is served while the test looks.
    data = Path(tempfile.mkdtemp(prefix="mrblue-warned-"))
    runner = runner_for(
        data / "db.sqlite3",
        tmp_path,
        *("--host", "192.0.2.1", "--port", str(free_port_block(1)), "--workers", "0"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        seen = read_until(runner.stderr, "Production set-up", timeout=60)
        assert "WARNING: serving on 192.0.2.1 with DEBUG on" in seen
        assert "DEBUG=0" in seen and "SECRET_KEY" in seen and "ALLOWED_HOSTS" in seen
    finally:
        stop(runner)
        shutil.rmtree(data)


def read_until(stream, text: str, timeout: float) -> str:
    """What `stream` says until a line with `text` (AssertionError if it never comes). Lines
    are read in a thread: select() on a text stream misses lines already in its buffer."""
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen, deadline = "", time.monotonic() + timeout
    while text not in seen:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {text!r} in {seen!r}") from None
        if line is None:
            raise AssertionError(f"ended without {text!r}: {seen!r}")
        seen += line
    return seen

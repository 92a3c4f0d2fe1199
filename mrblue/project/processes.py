"""The product's processes, under supervisor: one web process and the engine workers.

    python -m mrblue.project.processes [--port 8000] [--workers N] [--host 127.0.0.1]
                                       [--user mrblue]

`python3 -m mrblue.bootstrap serve` sets up, then runs this. It writes a supervisord
configuration to `.run/` and hands over to supervisord (in the foreground):

- `web`: Daphne on `--host:--port` with `MRBLUE_ENGINE_ROLE=gateway`: the site, the admin, the
  token mint and the transcript log; it loads no speech model and places sessions on the workers;
- `engine-1` .. `engine-N` (default: one per core): Daphne on loopback ports above `--port`,
  `MRBLUE_ENGINE_ROLE=worker`.

supervisord restarts a process that dies, and on Ctrl-C or SIGTERM stops them all; a worker
gets `MRBLUE_ENGINE_DRAIN_SECONDS` (and a few more) to drain before it is killed. Every process
gets one engine key, made here unless `MRBLUE_ENGINE_API_KEY` is set; it travels in the
environment, never in the written configuration.

Started as root, supervisord stays root but runs every process as `--user` (a system user
`mrblue`, made if missing), or refuses to start and says how to go on
(`mrblue/project/privileges.py`).
`--host` other than loopback with `DEBUG` on gets a loud warning on stderr.
"""

import argparse
import os
import secrets
import sys
from pathlib import Path

from mrblue.bootstrap import ROOT, daphne_limits
from mrblue.project import privileges
from mrblue.project.launch import application
from mrblue.project.privileges import SERVICE_USER, ServiceUser

RUN_DIR = ROOT / ".run"  # the written configuration, supervisord's socket and log
GRACE_SECONDS = 10  # beyond the drain, before supervisord kills a worker


def program(
    name: str,
    port: int,
    host: str,
    environment: dict,
    stop_seconds: float,
    user: ServiceUser | None = None,
) -> str:
    """One `[program:...]` section: Daphne on `host:port`, logging to supervisord's output,
    run as `user` if given (else as whoever runs supervisord)."""
    command = " ".join(
        [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), *daphne_limits()]
        + [application(environment["MRBLUE_ENGINE_ROLE"])]
    )
    user_line = ""
    if user is not None:
        environment = {**environment, **user.environment}
        user_line = f"user={user.name}\n"
    env = ",".join(f'{key}="{value}"' for key, value in environment.items())
    return f"""
[program:{name}]
command={command}
directory={ROOT}
{user_line}environment={env}
autorestart=true
startsecs=2
stopsignal=TERM
stopwaitsecs={int(stop_seconds)}
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile=/dev/fd/1
stdout_logfile_maxbytes=0
"""


def _user_line() -> str:
    # Run as root (a container, CI), supervisord logs a CRIT line at every start unless the
    # config names a user to run as; it may only name one when started as root. It stays root
    # to manage the processes; they run as the service user (their own `user=`).
    return "user=root\n" if os.geteuid() == 0 else ""


def configuration(
    host: str,
    port: int,
    workers: int,
    drain_seconds: float,
    run_dir: Path = RUN_DIR,
    user: ServiceUser | None = None,
) -> str:
    """The whole supervisord configuration (its control socket's password made afresh: the
    socket is the owner's alone already, but supervisord warns at every start without one),
    every process run as `user` if given."""
    password = secrets.token_urlsafe(24)
    sections = [
        f"""[supervisord]
nodaemon=true
{_user_line()}logfile={run_dir / "supervisord.log"}
pidfile={run_dir / "supervisord.pid"}
childlogdir={run_dir}

[unix_http_server]
file={run_dir / "supervisor.sock"}
chmod=0700
username=mrblue
password={password}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{run_dir / "supervisor.sock"}
username=mrblue
password={password}
""",
        program(
            "web",
            port,
            host,
            {"MRBLUE_ENGINE_ROLE": "gateway" if workers else "inprocess"},
            10,
            user,
        ),
    ]
    for index in range(1, workers + 1):
        worker_port = port + index
        environment = {
            "MRBLUE_ENGINE_ROLE": "worker",
            "MRBLUE_ENGINE_WORKER_URL": f"http://127.0.0.1:{worker_port}",
        }
        stop = drain_seconds + GRACE_SECONDS
        sections.append(
            program(f"engine-{index}", worker_port, "127.0.0.1", environment, stop, user)
        )
    return "".join(sections)


def main(argv: list[str] | None = None) -> None:
    """Write the configuration and become supervisord."""
    parser = argparse.ArgumentParser(description="Run the web process and the engine workers.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="engine worker processes (default: one per core; 0: the engine runs in the web "
        "process)",
    )
    parser.add_argument(
        "--user",
        default=SERVICE_USER,
        help=f"started as root: run the processes as this user (default {SERVICE_USER}, made "
        "if missing)",
    )
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR, help="for the written files")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.project.settings")
    import django

    django.setup()  # reads .env into os.environ, which the processes inherit
    from django.conf import settings

    from mrblue.engine.engine_settings import engine_settings

    warning = privileges.debug_warning(args.host, settings.DEBUG)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    user = _service_user(args.user) if os.geteuid() == 0 else None
    if not os.environ.get("MRBLUE_ENGINE_API_KEY"):
        os.environ["MRBLUE_ENGINE_API_KEY"] = "sk-mrblue-" + secrets.token_urlsafe(32)
    args.run_dir.mkdir(exist_ok=True)
    config = args.run_dir / "supervisord.conf"
    drain = engine_settings.ENGINE_DRAIN_SECONDS
    config.touch(mode=0o600)  # it holds the control socket's password
    config.chmod(0o600)
    config.write_text(configuration(args.host, args.port, args.workers, drain, args.run_dir, user))
    supervisord = Path(sys.executable).with_name("supervisord")
    os.execv(supervisord, [str(supervisord), "-c", str(config)])


def _service_user(name: str) -> ServiceUser:
    """The user to run the processes as (we are root), or exit saying how to go on."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    sqlite = Path(database["NAME"]) if database["ENGINE"].endswith("sqlite3") else None
    try:
        return privileges.prepare(name, sqlite, "DATABASE_URL" in os.environ, dict(os.environ))
    except privileges.Refusal as refusal:
        sys.exit(f"serve will not run the site as root, and cannot run it as {name!r}: {refusal}")


if __name__ == "__main__":
    main()

"""Start one process of the product as Daphne: a web process or an engine worker.

    python -m mrblue.project.launch web --port 8000 [--host 127.0.0.1]
    python -m mrblue.project.launch worker --port 8001 [--address 10.0.0.5]

The production systemd units (`python -m mrblue.project.deploy`) run these. A web process serves the
site, the admin, the mint and the transcript log, and places engine sessions on the workers
(`MRBLUE_ENGINE_ROLE=gateway`); it trusts the proxy's `X-Forwarded-For` for client addresses.
A worker listens on `--address` (default `MRBLUE_ENGINE_WORKER_ADDRESS`, else loopback) and
tells the gateways to reach it at `http://<address>:<port>` unless `MRBLUE_ENGINE_WORKER_URL`
says otherwise. Both get Daphne's WebSocket size limits from the engine's message limit.
Standard library only, like `bootstrap`: it runs before Django is set up.
"""

import argparse
import os
import sys

from mrblue.bootstrap import daphne_limits, raw_setting

LOOPBACK = "127.0.0.1"
ADDRESS_VARIABLE = "MRBLUE_ENGINE_WORKER_ADDRESS"


WEB_APPLICATION = "mrblue.project.asgi:application"
WORKER_APPLICATION = "mrblue.engine.asgi:application"


def worker_url(address: str, port: int) -> str:
    """The base URL the gateways reach a worker at (IPv6 addresses in brackets)."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}"


def application(role: str) -> str:
    """The ASGI application a process of `role` runs: an engine worker's own, or the site's."""
    return WORKER_APPLICATION if role == "worker" else WEB_APPLICATION


def daphne_command(
    host: str, port: int, proxy_headers: bool, environ=os.environ, app: str = WEB_APPLICATION
) -> list[str]:
    """Daphne's command line for the ASGI application `app` on `host:port`."""
    command = [sys.executable, "-m", "daphne", "-b", host, "-p", str(port)]
    if proxy_headers:
        command.append("--proxy-headers")
    return [*command, *daphne_limits(environ), app]


def plan(argv: list[str], environ: dict) -> tuple[list[str], dict]:
    """The command to run and its environment, for `argv` (`web ...` or `worker ...`)."""
    parser = argparse.ArgumentParser(prog="python -m mrblue.project.launch", description=__doc__)
    roles = parser.add_subparsers(dest="role", required=True)
    web = roles.add_parser("web", help="a web process (the site and the gateway)")
    web.add_argument("--port", type=int, required=True)
    web.add_argument("--host", default=LOOPBACK, help="address to listen on (the proxy's side)")
    worker = roles.add_parser("worker", help="an engine worker")
    worker.add_argument("--port", type=int, required=True)
    worker.add_argument(
        "--address",
        default=raw_setting(ADDRESS_VARIABLE, environ) or LOOPBACK,
        help=f"this host's private address: listened on, published (default ${ADDRESS_VARIABLE})",
    )
    args = parser.parse_args(argv)
    env = dict(environ)
    if args.role == "web":
        env["MRBLUE_ENGINE_ROLE"] = "gateway"
        return daphne_command(args.host, args.port, True, env), env
    env["MRBLUE_ENGINE_ROLE"] = "worker"
    if not raw_setting("MRBLUE_ENGINE_WORKER_URL", env):
        env["MRBLUE_ENGINE_WORKER_URL"] = worker_url(args.address, args.port)
    return daphne_command(args.address, args.port, False, env, WORKER_APPLICATION), env


def main(argv: list[str] | None = None) -> None:
    """Become Daphne in the role asked for."""
    command, env = plan(sys.argv[1:] if argv is None else argv, dict(os.environ))
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()

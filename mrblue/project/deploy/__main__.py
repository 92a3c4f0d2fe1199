"""Write the production kit and prepare the database and static files for it.

    python3 -m mrblue.bootstrap deploy --name mrblue.example.com [options]

(`bootstrap` makes the venv, then runs this module in it.) Writes `deploy/` (systemd units, the
nginx site, the environment file with the site's secrets), then, with that environment, runs
the migrations, collects the static files nginx serves, and runs Django's deployment checks;
last it prints the commands that install the files. `--no-setup` only writes the files.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from mrblue.bootstrap import ROOT
from mrblue.project.deploy.kit import ENV_NAME, NGINX_NAME, KitOptions, read_env_file, write_kit


def _ports(text: str) -> list[int]:
    return [int(port) for port in text.split(",") if port.strip()]


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line (defaults: one host, two web processes, two workers, port 443)."""
    d = KitOptions(server_name="", root=ROOT)
    parser = argparse.ArgumentParser(prog="python3 -m mrblue.bootstrap deploy", description=__doc__)
    add = parser.add_argument
    add("--name", required=True, help="the site's public host name (ALLOWED_HOSTS, TLS)")
    add("--out", type=Path, default=ROOT / "deploy", help="where the files go (default deploy/)")
    add("--root", type=Path, default=ROOT, help="the checkout on the servers (default this one)")
    add("--user", default=d.user, help="the system user the processes run as")
    add("--env-file", default=d.env_file, help="where the environment file is installed")
    add("--web-ports", type=_ports, default=d.web_ports, help="web processes (nginx upstreams)")
    add("--worker-ports", type=_ports, default=d.worker_ports, help="engine workers' ports")
    add("--worker-address", default=d.worker_address, help="this host's private address")
    add("--webrtc-hosts", default=d.webrtc_hosts, help="address(es) browsers send audio to")
    add("--https-port", type=int, default=d.https_port)
    add("--http-port", type=int, default=d.http_port)
    add("--certificate", default="", help="TLS certificate (default: Let's Encrypt's path)")
    add("--certificate-key", default="", help="its key")
    add("--database-url", default=d.database_url)
    add("--redis-url", default=d.redis_url)
    add("--no-setup", action="store_true", help="only write the files")
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace) -> KitOptions:
    """The kit's options from the parsed command line."""
    return KitOptions(
        server_name=args.name,
        root=args.root,
        user=args.user,
        env_file=args.env_file,
        web_ports=args.web_ports,
        worker_ports=args.worker_ports,
        worker_address=args.worker_address,
        webrtc_hosts=args.webrtc_hosts,
        https_port=args.https_port,
        http_port=args.http_port,
        certificate=args.certificate,
        certificate_key=args.certificate_key,
        database_url=args.database_url,
        redis_url=args.redis_url,
    )


def set_up(env_path: Path) -> None:
    """Migrations, static files and deployment checks, in the kit's environment."""
    env = {**os.environ, **read_env_file(env_path)}
    for command in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput", "--verbosity", "0"],
        ["check", "--deploy", "--fail-level", "WARNING"],
    ):
        print(f"==> manage.py {' '.join(command)}", flush=True)
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def install_steps(args: argparse.Namespace) -> str:
    """The commands that put the written files in place (as root, on the web host)."""
    out, units = args.out, "/etc/systemd/system"
    web = " ".join(f"mrblue-web@{p}" for p in args.web_ports)
    workers = " ".join(f"mrblue-engine@{p}" for p in args.worker_ports)
    return f"""
Install (as root):
  id {args.user} || useradd --system --no-create-home --shell /usr/sbin/nologin {args.user}
  install -D -m 600 {out / ENV_NAME} {args.env_file}
  install -m 644 {out}/mrblue-web@.service {out}/mrblue-engine@.service {units}/
  install -m 644 {out / NGINX_NAME} /etc/nginx/sites-available/mrblue
  ln -sf /etc/nginx/sites-available/mrblue /etc/nginx/sites-enabled/mrblue
  systemctl daemon-reload && systemctl enable --now {web} {workers}
  nginx -t && systemctl reload nginx
A second engine host: the same checkout and environment file, with its own
MRBLUE_ENGINE_WORKER_ADDRESS and MRBLUE_WEBRTC_HOSTS; enable only mrblue-engine@<port> there.
"""


def main(argv: list[str] | None = None) -> None:
    """Write the kit, set up, say how to install it."""
    args = parse(sys.argv[1:] if argv is None else argv)
    for path in write_kit(options_from(args), args.out):
        print(f"wrote {path}")
    if not args.no_setup:
        set_up(args.out / ENV_NAME)
    print(install_steps(args))


if __name__ == "__main__":
    main()

"""The production set-up as files: systemd units, the nginx site and the environment file.

`write_kit(options)` renders the templates beside this module into a folder an operator copies
from (`mrblue/docs/deployment.md`, "Production set-up", says where each file goes). The
environment file holds the site's secrets: made once, kept when the kit is written again.
"""

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
ENV_NAME = "mrblue.env"
UNIT_NAMES = ("mrblue-web@.service", "mrblue-engine@.service")
NGINX_NAME = "nginx-mrblue.conf"
KEPT_SECRETS = ("SECRET_KEY", "MRBLUE_ENGINE_API_KEY")
STOP_MARGIN_SECONDS = 15  # beyond the workers' drain, before systemd kills one
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass
class KitOptions:
    """What differs between sites (defaults: one host, two web processes, two workers)."""

    server_name: str
    root: Path
    user: str = "mrblue"
    env_file: str = "/etc/mrblue/mrblue.env"
    web_ports: list[int] = field(default_factory=lambda: [8000, 8010])
    worker_ports: list[int] = field(default_factory=lambda: [8001, 8002])
    worker_address: str = "127.0.0.1"
    webrtc_hosts: str = ""
    https_port: int = 443
    http_port: int = 80
    certificate: str = ""
    certificate_key: str = ""
    database_url: str = "postgres://mrblue@127.0.0.1:5432/mrblue"
    redis_url: str = "redis://127.0.0.1:6379/0"
    drain_seconds: int = 60


def read_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines of an environment file (comments and blanks skipped, quotes dropped),
    as systemd's EnvironmentFile reads the simple lines this kit writes."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values[name.strip()] = value.strip().strip("'\"")
    return values


def render(template: str, values: dict[str, object]) -> str:
    """Fill `{{name}}` placeholders; a name without a value is an error, not a blank."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for {{{{{name}}}}}")
        return str(values[name])

    return _PLACEHOLDER.sub(fill, template)


def template_values(options: KitOptions, kept: dict[str, str]) -> dict[str, object]:
    """Every placeholder's value for these options (secrets: kept ones, else new)."""
    https_suffix = "" if options.https_port == 443 else f":{options.https_port}"
    letsencrypt = Path("/etc/letsencrypt/live") / options.server_name
    return {
        "server_name": options.server_name,
        "origin": f"https://{options.server_name}{https_suffix}",
        "root": options.root,
        "user": options.user,
        "env_file": options.env_file,
        "first_web_port": options.web_ports[0],
        "first_worker_port": options.worker_ports[0] if options.worker_ports else 8001,
        "web_upstreams": "\n".join(f"    server 127.0.0.1:{p};" for p in options.web_ports),
        "http_port": options.http_port,
        "https_port": options.https_port,
        "https_port_suffix": https_suffix,
        "certificate": options.certificate or letsencrypt / "fullchain.pem",
        "certificate_key": options.certificate_key or letsencrypt / "privkey.pem",
        "stop_seconds": options.drain_seconds + STOP_MARGIN_SECONDS,
        "database_url": options.database_url,
        "redis_url": options.redis_url,
        "worker_address": options.worker_address,
        "webrtc_hosts": options.webrtc_hosts,
        "secret_key": kept.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "engine_key": kept.get("MRBLUE_ENGINE_API_KEY") or "sk-mrblue-" + secrets.token_urlsafe(32),
    }


def write_kit(options: KitOptions, out: Path) -> list[Path]:
    """Write the units, the nginx site and the environment file into `out`; return them."""
    out.mkdir(parents=True, exist_ok=True)
    env_path = out / ENV_NAME
    kept = read_env_file(env_path) if env_path.exists() else {}
    values = template_values(options, {k: v for k, v in kept.items() if k in KEPT_SECRETS})
    written = []
    for name in (*UNIT_NAMES, NGINX_NAME, ENV_NAME):
        path = out / name
        text = render((TEMPLATES / name).read_text(), values)
        if name == ENV_NAME:  # the secrets: the owner's alone, from the first byte
            path.touch(mode=0o600)
            os.chmod(path, 0o600)
        path.write_text(text)
        written.append(path)
    return written

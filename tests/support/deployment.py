"""The production shape on one machine: what systemd, nginx and a second host would be.

- `certificate()` makes a self-signed certificate for the site's name, and its SPKI hash for
  Chromium to trust it by (`--ignore-certificate-errors-spki-list`).
- `Host` is a second "host": a network namespace with an address of its own, joined to this
  one by a veth pair; it reaches PostgreSQL and Redis through relays on this side's address.
- `run_unit()` starts a systemd unit of the kit as systemd would (its `User`,
  `EnvironmentFile`, `Environment`, `WorkingDirectory` and `ExecStart`, the instance in `%i`).
- `Nginx` runs Debian's nginx with the kit's site file, as `sites-enabled` would include it.

Everything listens on loopback or on the namespace's own addresses; nothing leaves the machine.
"""

import asyncio
import base64
import contextlib
import datetime
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from mrblue.project.deploy.kit import read_env_file

SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def system_command(name: str) -> str | None:
    """The path of a system command (nginx and ip live in sbin, which a PATH may leave out)."""
    return shutil.which(name) or shutil.which(name, path=SYSTEMD_PATH)


def certificate(directory: Path, name: str) -> tuple[Path, Path, str]:
    """A self-signed certificate for `name`: its file, its key's file, its SPKI SHA-256
    (base64), for Chromium to trust it without a CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "site.crt", directory / "site.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki)
    return cert_path, key_path, base64.b64encode(digest.finalize()).decode()


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now, at `address`."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def wait_for_port(address: str, port: int, timeout: float = 30.0) -> None:
    """Wait until something accepts TCP connections at `address:port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((address, port), 0.5):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens at {address}:{port}")


class Relay:
    """TCP relays in a thread of their own: each listens at `address:port` and joins every
    connection to `127.0.0.1:port` (how the second host reaches the database and Redis)."""

    def __init__(self, address: str, ports: list[int]):
        self.loop = asyncio.new_event_loop()
        self._servers = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(address, ports), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the relays did not start")

    def _run(self, address, ports):
        asyncio.set_event_loop(self.loop)
        for port in ports:
            handler = self._handler(port)
            server = self.loop.run_until_complete(asyncio.start_server(handler, address, port))
            self._servers.append(server)
        self._ready.set()
        self.loop.run_forever()

    @staticmethod
    def _handler(port):
        async def pipe(reader, writer):
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        async def handle(client_reader, client_writer):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                client_writer.close()
                return
            await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))

        return handle

    def close(self):
        """Stop listening and end the thread."""

        def stop():
            for server in self._servers:
                server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(stop)
        self._thread.join(10)


class Host:
    """A second host: a network namespace at `address`, this side at `gateway`, joined by a
    veth pair; `relay_ports` of this machine's loopback are reachable at `gateway`."""

    def __init__(self, relay_ports: list[int]):
        tag = secrets.token_hex(3)
        subnet = 200 + secrets.randbelow(50)
        self.name = f"mrblue-{tag}"
        self.gateway, self.address = f"10.231.{subnet}.1", f"10.231.{subnet}.2"
        outside, inside = f"mbo{tag}", f"mbi{tag}"
        self._ip = ip = system_command("ip")
        self._commands = [
            [ip, "netns", "add", self.name],
            [ip, "link", "add", outside, "type", "veth", "peer", "name", inside],
            [ip, "link", "set", inside, "netns", self.name],
            [ip, "addr", "add", f"{self.gateway}/30", "dev", outside],
            [ip, "link", "set", outside, "up"],
            *(
                [ip, "netns", "exec", self.name, *command]
                for command in (
                    [ip, "addr", "add", f"{self.address}/30", "dev", inside],
                    [ip, "link", "set", inside, "up"],
                    [ip, "link", "set", "lo", "up"],
                )
            ),
        ]
        self.relay = None
        try:
            for command in self._commands:
                subprocess.run(command, check=True, capture_output=True, text=True)
            self.relay = Relay(self.gateway, relay_ports)
        except BaseException:
            self.close()
            raise

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run inside this host."""
        return [self._ip, "netns", "exec", self.name, *argv]

    def close(self):
        """Remove the namespace (its end of the veth pair goes with it, and so the pair)."""
        if self.relay is not None:
            self.relay.close()
        subprocess.run([self._ip, "netns", "del", self.name], capture_output=True)


class Process:
    """A started process whose output is kept (and watched for a line)."""

    def __init__(self, name: str, argv: list[str], env: dict, cwd: Path):
        self.name = name
        self.output: list[str] = []
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, as systemd stops a unit (then SIGKILL after `timeout`)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def tail(self, lines: int = 40) -> str:
        """The last lines it printed."""
        return f"--- {self.name}\n" + "".join(self.output[-lines:])


def read_unit(path: Path) -> dict[str, list[str]]:
    """A unit file's `[Service]` keys, each with every value it was given (a key such as
    `Environment=` may come more than once, which configparser does not keep)."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def unit_environment(service: dict[str, list[str]], env_file: Path | None = None) -> dict:
    """The environment systemd gives the unit's process: its PATH, the `EnvironmentFile`
    (`env_file` stands in for the installed path), then its `Environment=` lines."""
    env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"}
    for path in service.get("EnvironmentFile", []):
        env.update(read_env_file(env_file or Path(path.lstrip("-"))))
    for line in service.get("Environment", []):
        for pair in shlex.split(line):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def as_user(user: str, argv: list[str], env: dict) -> list[str]:
    """`argv` run as the system `user`, made ready as `serve` makes its user ready (made if
    missing, let through closed directories on the way to the checkout's Python, probed by
    starting Django as it with `env`); else, where that cannot be, as it is, saying why."""
    from mrblue.project import privileges

    if os.geteuid() != 0:
        return argv
    try:
        privileges.prepare(
            user, None, True, {**env, "DJANGO_SETTINGS_MODULE": "mrblue.project.settings"}
        )
    except privileges.Refusal as refusal:
        print(f"running {argv[-1]} as root, not {user}: {refusal}")
        return argv
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *argv]


def run_unit(
    unit: Path, instance: str, env_file: Path, host: Host | None = None, extra_env=None
) -> Process:
    """Start `unit`'s `ExecStart` for `instance`, as systemd would: its `User=`, environment
    and working directory, on `host` (None: here)."""
    service = read_unit(unit)
    (exec_start,) = service["ExecStart"]
    argv = shlex.split(exec_start.replace("%i", instance))
    env = {**unit_environment(service, env_file), **(extra_env or {})}
    if "User" in service:
        argv = as_user(service["User"][0], argv, env)
    if host is not None:
        argv = host.command(argv)
    (cwd,) = service["WorkingDirectory"]
    return Process(f"{unit.name}@{instance}", argv, env, Path(cwd))


class Nginx:
    """Debian's nginx with `site` included in its `http` block, as `sites-enabled` is;
    everything it writes (pid, logs, buffers) stays in `directory`."""

    def __init__(self, site: Path, directory: Path):
        self.directory = directory
        config = directory / "nginx.conf"
        config.write_text(
            f"""daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {site};
}}
"""
        )
        argv = [system_command("nginx"), "-c", str(config), "-p", str(directory)]
        subprocess.run([*argv, "-t", "-q"], check=True, capture_output=True, text=True)
        self.process = Process("nginx", argv, {"PATH": SYSTEMD_PATH}, directory)

    def stop(self):
        """Stop nginx (SIGTERM: a fast shutdown)."""
        self.process.stop(10)

    def log(self) -> str:
        """nginx's error log."""
        path = self.directory / "error.log"
        return path.read_text() if path.exists() else ""

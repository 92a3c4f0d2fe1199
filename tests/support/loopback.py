"""A small threaded HTTP server on loopback, base of the providers' stand-ins."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingHandler(BaseHTTPRequestHandler):
    """Records every request (path, headers, JSON body) and can answer JSON."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def read_json(self):
        """Read, record and return the request's JSON body."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw) if raw else None
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        return body

    def send_json(self, status, body, headers=None):
        """Answer with a JSON body."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class LoopbackServer:
    """Serve `handler` on a free loopback port; `url` is `http://127.0.0.1:PORT/v1`."""

    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.requests = []
        self.server.release = threading.Event()  # slow answers wait on it
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def requests(self):
        """Requests received so far."""
        return self.server.requests

    def close(self):
        """Release any waiting request and stop."""
        self.server.release.set()
        self.server.shutdown()
        self.server.server_close()

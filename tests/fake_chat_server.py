"""A stand-in for a chat-completions server (OpenAI's documented streaming format), on loopback.

The model name picks the behaviour: `echo` streams the last user message back, `tools` calls
the first declared tool in pieces, `slow` never answers, `error500` fails, `badjson` sends
a chunk that is not JSON. Every request body is recorded for the tests to inspect.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        model = body.get("model")
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": "not found"}})
        if model == "error500":
            return self._json(500, {"error": {"message": "boom", "type": "server_error"}})
        if model == "slow":
            self.server.release.wait(30)
            return self._json(503, {"error": {"message": "gave up"}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if model == "badjson":
            self._event("{not json")
            return
        if model == "tools":
            tool = body["tools"][0]["function"]["name"]
            pieces = [
                {
                    "index": 0,
                    "id": "call_fake1",
                    "type": "function",
                    "function": {"name": tool, "arguments": '{"block_'},
                },
                {"index": 0, "function": {"arguments": 'id": "heading"}'}},
            ]
            for piece in pieces:
                self._chunk({"tool_calls": [piece]})
        else:
            last = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
            for word in f"You said: {last}".split(" "):
                self._chunk({"content": word + " "})
        self._event("[DONE]")

    def _chunk(self, delta):
        self._event(
            json.dumps(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion.chunk",
                    "model": "fake",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
            )
        )

    def _event(self, data):
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeChatServer:
    """Start on a free loopback port; `url` is its API root; `close()` stops it."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.requests = []
        self.server.release = threading.Event()
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def requests(self):
        """Bodies received so far."""
        return self.server.requests

    def close(self):
        """Release any waiting request and stop."""
        self.server.release.set()
        self.server.shutdown()
        self.server.server_close()

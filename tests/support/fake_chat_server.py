"""A stand-in for a chat-completions server (OpenAI's documented streaming format), on loopback.

The model name picks the behaviour: `echo` streams the last user message back, `tools` calls
the first declared tool in pieces, `slow` never answers, `error500` fails, `badjson` sends
a chunk that is not JSON, `errorchunk` streams an error chunk with internal details.
"""

import json

from tests.support.loopback import LoopbackServer, RecordingHandler


class _ChatHandler(RecordingHandler):
    def do_POST(self):
        body = self.read_json()
        model = body.get("model")
        if self.path != "/v1/chat/completions":
            return self.send_json(404, {"error": {"message": "not found"}})
        if model == "error500":
            return self.send_json(500, {"error": {"message": "boom", "type": "server_error"}})
        if model == "slow":
            self.server.release.wait(30)
            return self.send_json(503, {"error": {"message": "gave up"}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if model == "badjson":
            self._event("{not json")
            return
        if model == "errorchunk":
            detail = "Incorrect API key provided: sk-brain-secret; see /srv/llm/internal.py"
            self._event(json.dumps({"error": {"message": detail, "type": "invalid_request"}}))
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


def FakeChatServer():  # noqa: N802  (reads like the class it makes)
    """A running chat-completions stand-in."""
    return LoopbackServer(_ChatHandler)

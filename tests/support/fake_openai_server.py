"""A stand-in for OpenAI's `POST /v1/realtime/client_secrets`, as its API documents it.

The API key picks the behaviour: `sk-good` answers a secret; `sk-bad` 401; `sk-busy` 429 with
Retry-After; `sk-broken` 500; `sk-slow` never answers; `sk-garbage` 200 with a non-JSON body;
`sk-picky` 400 (the session was refused); `sk-oddsession` 200 with a `session` that is not an
object.
"""

import time

from tests.support.loopback import LoopbackServer, RecordingHandler

# Every key the stand-in knows (each is a "secret" the tests' secret scan looks for).
KEYS = (
    "sk-good",
    "sk-bad",
    "sk-busy",
    "sk-broken",
    "sk-slow",
    "sk-garbage",
    "sk-picky",
    "sk-oddsession",
)


class _OpenAIHandler(RecordingHandler):
    def do_POST(self):
        body = self.read_json()
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        ids = {"x-request-id": "req_fake123"}
        if self.path != "/v1/realtime/client_secrets":
            return self.send_json(404, {"error": {"message": "Not found"}}, ids)
        if key == "sk-bad":
            return self.send_json(
                401,
                {
                    "error": {
                        "message": f"Incorrect API key provided: {key}.",
                        "code": "invalid_api_key",
                    }
                },
                ids,
            )
        if key == "sk-busy":
            return self.send_json(
                429, {"error": {"message": "Rate limit reached"}}, {**ids, "Retry-After": "7"}
            )
        if key == "sk-broken":
            return self.send_json(500, {"error": {"message": "internal"}}, ids)
        if key == "sk-slow":
            self.server.release.wait(30)
            return self.send_json(500, {"error": {"message": "late"}})
        if key == "sk-garbage":
            return self.send_json(200, b"<html>oops</html>", ids)
        if key == "sk-picky":
            return self.send_json(400, {"error": {"message": "Invalid session"}}, ids)
        session = {**body["session"], "id": "sess_fake", "object": "realtime.session"}
        if key == "sk-oddsession":
            session = ["not", "an", "object"]
        return self.send_json(
            200,
            {
                "value": "ek_fake_secret_value",
                "expires_at": int(time.time()) + 60,
                "session": session,
            },
            ids,
        )


def FakeOpenAI():  # noqa: N802  (reads like the class it makes)
    """A running client-secrets stand-in."""
    return LoopbackServer(_OpenAIHandler)

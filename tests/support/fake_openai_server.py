"""A stand-in for OpenAI's `POST /v1/realtime/client_secrets` and `POST /v1/audio/speech`, as
its API documents them.

The API key picks the behaviour: `sk-good` answers a secret; `sk-bad` 401; `sk-busy` 429 with
Retry-After; `sk-broken` 500; `sk-slow` never answers; `sk-garbage` 200 with a non-JSON body;
`sk-picky` 400 (the session was refused); `sk-oddsession` 200 with a `session` that is not an
object. The speech endpoint answers `sk-good` with a WAV tone of `SPEECH_SECONDS` (and the other
keys as the secrets endpoint does, but `sk-garbage` with a body that is no audio).
"""

import io
import math
import struct
import time
import wave

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


SPEECH_SECONDS = 1.5


def tone_wav(seconds: float = SPEECH_SECONDS, rate: int = 24_000) -> bytes:
    """A 440 Hz tone at half scale, as a mono pcm16 WAV."""
    samples = (
        int(16000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


class _OpenAIHandler(RecordingHandler):
    def do_POST(self):
        body = self.read_json()
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        ids = {"x-request-id": "req_fake123"}
        if self.path == "/v1/audio/speech" and key in ("sk-good", "sk-garbage"):
            return self.send_audio(tone_wav() if key == "sk-good" else b"<html>oops</html>")
        if self.path not in ("/v1/realtime/client_secrets", "/v1/audio/speech"):
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

    def send_audio(self, data: bytes):
        """Answer 200 with audio, as the speech endpoint does."""
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def FakeOpenAI():  # noqa: N802  (reads like the class it makes)
    """A running client-secrets stand-in."""
    return LoopbackServer(_OpenAIHandler)

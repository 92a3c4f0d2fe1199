"""Token usage, estimated: the engine has no tokenizer, so `response.done` reports OpenAI's
usage shape with counts estimated from characters and audio length."""

import math

from mrblue.engine.protocol.spec import PCM_BYTES_PER_MS


def text_tokens(text: str) -> int:
    """An estimate: about four characters a token, as for English with OpenAI's tokenizers."""
    return math.ceil(len(text) / 4)


def input_tokens(instructions: str, items: list, ms_of) -> dict:
    """The tokens a response reads: its instructions and the items it answers (input audio
    ~10 tokens/s; `ms_of` turns a byte count of input audio into milliseconds)."""
    text = text_tokens(instructions)
    audio = 0
    for item in items:
        for part in item.get("content") or []:
            if part.get("type") == "input_audio" and part.get("audio"):
                audio += math.ceil(ms_of(len(part["audio"]) * 3 // 4) / 100)
            else:
                text += text_tokens(part.get("text") or part.get("transcript") or "")
        text += text_tokens(item.get("arguments", "") + item.get("output", ""))
    return {"text_tokens": text, "audio_tokens": audio}


def usage(inputs: dict, text_chars: int, audio_bytes: int, output: list) -> dict:
    """A response's usage in OpenAI's shape: `inputs` from `input_tokens`, then what it said
    (`text_chars` of text, `audio_bytes` of 24 kHz pcm16 at ~20 tokens/s, its `output` items'
    function arguments)."""
    text_out = math.ceil(text_chars / 4) + sum(
        text_tokens(item.get("arguments", "")) for item in output
    )
    audio_out = math.ceil(audio_bytes / PCM_BYTES_PER_MS / 50)  # ~20 tokens/s = 1 per 50 ms
    input_total = inputs["text_tokens"] + inputs["audio_tokens"]
    return {
        "total_tokens": input_total + text_out + audio_out,
        "input_tokens": input_total,
        "output_tokens": text_out + audio_out,
        "input_token_details": {
            **inputs,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }

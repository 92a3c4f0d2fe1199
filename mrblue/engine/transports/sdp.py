"""Checking an SDP offer before a call is made for it: what aiortc needs but does not check.

aiortc answers an offer without a DTLS fingerprint or ICE credentials, and only fails later,
in a connect task of its own that nobody awaits; its parser fails on bad lines with whatever
exception comes first. Here such an offer is refused with its reason instead.
"""

from aiortc.sdp import SessionDescription

MAX_SDP_BYTES = 64 * 1024
# Sections aiortc connects: the microphone (and any other media) and the data channel.
CONNECTED_KINDS = ("audio", "video", "application")


class OfferRefused(ValueError):
    """An offer the engine cannot answer; the message says why (for the client)."""


def check_offer(body: bytes) -> str:
    """The offer's text, if it can become a call: parseable, with an audio section, and a
    DTLS fingerprint and ICE credentials for every section to connect; else OfferRefused."""
    if len(body) > MAX_SDP_BYTES:
        raise OfferRefused(f"An SDP offer is at most {MAX_SDP_BYTES} bytes.")
    text = body.decode("utf-8", "replace")
    if not text.startswith("v=0"):
        raise OfferRefused("The body is not an SDP offer (it must start with v=0).")
    try:
        description = SessionDescription.parse(text)
    except Exception:  # its parser asserts, indexes and converts its way through the lines
        raise OfferRefused("The SDP offer could not be parsed.") from None
    if not any(media.kind == "audio" for media in description.media):
        raise OfferRefused("The SDP offer has no audio section (m=audio).")
    for index, media in enumerate(description.media):
        if media.kind not in CONNECTED_KINDS:
            continue
        dtls, ice = media.dtls, media.ice  # None in some sections aiortc half-parses
        if dtls is None or not dtls.fingerprints:
            raise OfferRefused(f"Section {index} ({media.kind}) has no DTLS a=fingerprint.")
        if ice is None or not (ice.usernameFragment and ice.password):
            raise OfferRefused(
                f"Section {index} ({media.kind}) has no ICE credentials (a=ice-ufrag, a=ice-pwd)."
            )
    return text

"""The voice path of one call: audio in, turn detection, recognition, synthesis, audio out.

`turns.VoiceTurns` takes a call's 16 kHz audio through `vad` (when a person starts and stops
speaking; with `semantic_vad`, `end_of_turn`'s model says whether a pause ends the turn) and
the speech services (`services`: by default `speech`, Whisper on the `short_window` primed
with `hints`, and piper for the answers), and reports partial words (`partial_words`) and
finished turns to its owner through the narrow `VoiceOwner` interface. `turn_timer` keeps a
turn's timings; `rescoring` lets a brain ask how well a sentence fits what was heard;
`scheduler` shares one worker thread fairly among the calls of a process; `audio` resamples
between the stages' rates; `playout` paces the answer out as a WebRTC track.

Imports: the protocol and the engine's settings; nothing of the transports or workers.
"""

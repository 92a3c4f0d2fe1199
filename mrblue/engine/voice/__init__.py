"""The voice path of one call: audio in, turn detection, recognition, synthesis, audio out.

`turns.VoiceTurns` takes a call's 16 kHz audio through `vad` (when a person starts and stops
speaking) and `speech` (Whisper on the `short_window`, primed with `hints`; piper for the
answers), and reports partial words (`partial_words`) and finished turns to its owner.
`scheduler` shares one worker thread fairly among the calls of a process; `audio` resamples
between the stages' rates; `playout` paces the answer out as a WebRTC track.

Imports: the protocol and the engine's settings; nothing of the transports or workers.
"""

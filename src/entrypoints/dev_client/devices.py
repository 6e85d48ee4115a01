"""Microphone and speakers through `sounddevice` (the optional `audio` extra).

Imported only in microphone mode. Both streams run at 8 kHz, 16-bit mono in blocks
of 20 ms; PortAudio's threads hand frames over through bounded deques, so a stalled
event loop drops the oldest audio rather than piling up delay.
"""

from __future__ import annotations

import importlib
from collections import deque
from typing import Any

from entrypoints.dev_client.audio import FRAME_BYTES, PHONE_RATE_HZ, mulaw_decode, mulaw_encode
from entrypoints.dev_client.playback import SILENCE_FRAME

MAX_FRAMES = 10
"""At most 200 ms waits in either direction."""


class AudioDevicesMissing(RuntimeError):
    """No microphone or speakers to use; the message says why and what to do instead."""


WAV_INSTEAD = "or speak a file instead: frontdesk dev-client --wav FILE"


def _sounddevice() -> Any:
    try:
        return importlib.import_module("sounddevice")
    except ImportError:
        raise AudioDevicesMissing(
            "no microphone or speakers: audio support is not installed -> "
            f"install it with `uv sync --extra audio`, {WAV_INSTEAD}"
        ) from None
    except OSError:  # sounddevice is there, the PortAudio library it loads is not
        raise AudioDevicesMissing(
            "no microphone or speakers: the PortAudio library is missing -> install it "
            f"(Debian/Ubuntu: apt install libportaudio2; macOS: brew install portaudio), "
            f"{WAV_INSTEAD}"
        ) from None


class Devices:
    """The default microphone (a caller audio source) and speakers (a player)."""

    def __init__(self) -> None:
        sd = _sounddevice()
        self._mic: deque[bytes] = deque(maxlen=MAX_FRAMES)
        self._speaker: deque[bytes] = deque(maxlen=MAX_FRAMES)
        options = {
            "samplerate": PHONE_RATE_HZ,
            "channels": 1,
            "dtype": "int16",
            "blocksize": FRAME_BYTES,
        }
        try:
            self._input = sd.RawInputStream(callback=self._on_input, **options)
            self._output = sd.RawOutputStream(callback=self._on_output, **options)
        except Exception as error:  # sounddevice.PortAudioError, or a device's ValueError
            raise AudioDevicesMissing(
                f"cannot open the default microphone or speakers ({error}) -> check that "
                f"they are connected and this terminal may use them, {WAV_INSTEAD}"
            ) from None

    def start(self) -> None:
        self._input.start()
        self._output.start()

    def close(self) -> None:
        for stream in (self._input, self._output):
            stream.stop()
            stream.close()

    # the client's side (event loop)

    def next_frame(self) -> bytes:
        """The next 20 ms from the microphone, as mu-law; silence if none is ready."""
        return self._mic.popleft() if self._mic else SILENCE_FRAME

    def play(self, frame: bytes) -> None:
        self._speaker.append(frame)

    def clear(self) -> None:
        """Stop what the speakers are about to play."""
        self._speaker.clear()

    # PortAudio's threads

    def _on_input(self, data: Any, frames: int, time: Any, status: Any) -> None:
        samples = memoryview(bytes(data)).cast("h").tolist()
        self._mic.append(mulaw_encode(samples))

    def _on_output(self, data: Any, frames: int, time: Any, status: Any) -> None:
        frame = self._speaker.popleft() if self._speaker else SILENCE_FRAME
        pcm = memoryview(bytearray(2 * len(frame))).cast("h")
        for i, sample in enumerate(mulaw_decode(frame)):
            pcm[i] = sample
        data[:] = pcm.cast("B").tobytes().ljust(len(data), b"\0")[: len(data)]

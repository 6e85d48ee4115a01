"""Pure audio conversions for the dev client: WAV in, 8 kHz mu-law out, and back.

Standard library only (no numpy, no `audioop`, which Python 3.13 removed). Samples
are plain lists of ints (16-bit signed unless said otherwise); speed is ample for
a few minutes of telephone audio.
"""

from __future__ import annotations

import array
import sys
import wave
from pathlib import Path
from typing import Final

PHONE_RATE_HZ: Final = 8000
FRAME_BYTES: Final = 160
"""20 ms of 8 kHz mu-law: one Media Streams `media` message."""
MULAW_SILENCE: Final = 0xFF

_BIAS: Final = 0x84
_CLIP: Final = 32635


class UnsupportedWav(ValueError):
    """A WAV file the dev client cannot read (compressed, or an odd sample width)."""


def read_wav(path: Path) -> tuple[list[int], int]:
    """The file's audio as mono 16-bit samples, and its sample rate in Hz.

    8-bit (unsigned), 16-, 24- and 32-bit PCM, any channel count (averaged to mono).
    """
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels = wav.getsampwidth(), wav.getnchannels()
            rate_hz = wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except wave.Error as error:
        raise UnsupportedWav(f"{path}: {error}") from None
    samples = pcm_to_int16(raw, width)
    return to_mono(samples, channels), rate_hz


def pcm_to_int16(raw: bytes, width: int) -> list[int]:
    """Little-endian PCM of `width` bytes per sample as 16-bit samples."""
    if width == 1:
        return [(b - 128) << 8 for b in raw]
    if width == 2:
        return _array("h", raw)
    if width == 3:
        return [
            int.from_bytes(raw[i + 1 : i + 3], "little", signed=True)
            for i in range(0, len(raw) - 2, 3)
        ]
    if width == 4:
        return [s >> 16 for s in _array("i", raw)]
    raise UnsupportedWav(f"{width * 8}-bit samples are not supported")


def _array(code: str, raw: bytes) -> list[int]:
    samples = array.array(code)
    samples.frombytes(raw[: len(raw) - len(raw) % samples.itemsize])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tolist()


def to_mono(samples: list[int], channels: int) -> list[int]:
    """Average interleaved channels into one."""
    if channels == 1:
        return samples
    usable = len(samples) - len(samples) % channels
    return [sum(samples[i : i + channels]) // channels for i in range(0, usable, channels)]


def resample(samples: list[int], from_hz: int, to_hz: int) -> list[int]:
    """Linear interpolation from `from_hz` to `to_hz`.

    Downsampling averages each output sample's span first (a box filter), which keeps
    most aliasing out of telephone audio without a proper low-pass.
    """
    if from_hz == to_hz or not samples:
        return list(samples)
    ratio = from_hz / to_hz
    if ratio > 1:
        samples = _box_filter(samples, round(ratio))
    count = int(len(samples) * to_hz / from_hz)
    last = len(samples) - 1
    out = []
    for i in range(count):
        position = i * ratio
        left = int(position)
        right = min(left + 1, last)
        fraction = position - left
        out.append(round(samples[left] + (samples[right] - samples[left]) * fraction))
    return out


def _box_filter(samples: list[int], width: int) -> list[int]:
    if width <= 1:
        return samples
    out, running = [], 0
    for i, sample in enumerate(samples):
        running += sample
        if i >= width:
            running -= samples[i - width]
        out.append(running // min(i + 1, width))
    return out


def _encode_one(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), _CLIP) + _BIAS
    exponent = max(magnitude.bit_length() - 8, 0)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _decode_one(byte: int) -> int:
    byte = ~byte & 0xFF
    magnitude = ((((byte & 0x0F) << 3) + _BIAS) << ((byte >> 4) & 0x07)) - _BIAS
    return -magnitude if byte & 0x80 else magnitude


_ENCODE: Final = bytes(_encode_one(s) for s in range(-32768, 32768))
_DECODE: Final = tuple(_decode_one(b) for b in range(256))


def mulaw_encode(samples: list[int]) -> bytes:
    """G.711 mu-law of 16-bit samples (clipped to the 16-bit range)."""
    return bytes(_ENCODE[max(-32768, min(32767, s)) + 32768] for s in samples)


def mulaw_decode(data: bytes) -> list[int]:
    """16-bit samples of G.711 mu-law bytes."""
    return [_DECODE[b] for b in data]


def wav_to_mulaw(path: Path) -> bytes:
    """A WAV file as the raw 8 kHz mono mu-law a phone call carries."""
    samples, rate_hz = read_wav(path)
    return mulaw_encode(resample(samples, rate_hz, PHONE_RATE_HZ))


def write_conversation(path: Path, caller: bytes, agent: bytes) -> None:
    """Both sides of a call as one 8 kHz 16-bit stereo WAV: caller left, agent right.

    `caller` and `agent` are mu-law sampled on the same clock from the same instant;
    the shorter is padded with silence.
    """
    length = max(len(caller), len(agent))
    left = mulaw_decode(caller.ljust(length, bytes([MULAW_SILENCE])))
    right = mulaw_decode(agent.ljust(length, bytes([MULAW_SILENCE])))
    frames = array.array("h", [0]) * (2 * length)
    frames[0::2] = array.array("h", left)
    frames[1::2] = array.array("h", right)
    if sys.byteorder == "big":
        frames.byteswap()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(PHONE_RATE_HZ)
        wav.writeframes(frames.tobytes())

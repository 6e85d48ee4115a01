"""The scripted agent's "voice": a short, quiet tone in the leg's audio format, so a
recording shows where each of its turns was (its words are in the transcript)."""

from __future__ import annotations

import math
import struct

from application.ports import AudioEncoding, AudioFormat

TONE_HZ = 440.0
AMPLITUDE = 2000
"""Of 32767: quiet."""


def tone(audio: AudioFormat, duration_ms: int) -> bytes:
    count = audio.sample_rate_hz * duration_ms // 1000
    samples = [
        round(AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * n / audio.sample_rate_hz))
        for n in range(count)
    ]
    match audio.encoding:
        case AudioEncoding.LINEAR16:
            return struct.pack(f"<{count}h", *samples)
        case AudioEncoding.PCMU:
            return bytes(_mulaw(s) for s in samples)
        case AudioEncoding.PCMA:
            return bytes(_alaw(s) for s in samples)


def _mulaw(sample: int) -> int:
    """G.711 µ-law of one 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _alaw(sample: int) -> int:
    """G.711 A-law of one 16-bit sample."""
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(abs(sample), 32767) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55

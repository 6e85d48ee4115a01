"""Tagged 20 ms audio frames shared by the benchmark driver and the emulator runner.

Each 160-byte mu-law frame starts with a magic pair, the sender's stream index and a
sequence number, so the receiving process can match it to its send time. Both sides
stamp with `time.monotonic_ns()`: CLOCK_MONOTONIC is system-wide on Linux, so stamps
taken in different processes on one machine are comparable.
"""

from __future__ import annotations

import struct
from typing import Final

FRAME_BYTES: Final = 160
FRAME_S: Final = 0.020
MAGIC: Final = b"\xa5\x5a"
_TAG: Final = struct.Struct(">HI")  # stream index, sequence number
_FILL: Final = b"\xff" * (FRAME_BYTES - len(MAGIC) - _TAG.size)  # mu-law silence


def tagged_frame(stream: int, seq: int) -> bytes:
    return MAGIC + _TAG.pack(stream, seq) + _FILL


def read_tag(frame: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, int] | None:
    """(stream, seq) of a tagged frame starting at `offset`, or None if untagged."""
    if len(frame) - offset < len(MAGIC) + _TAG.size:
        return None
    if frame[offset : offset + 2] != MAGIC:
        return None
    stream, seq = _TAG.unpack_from(frame, offset + 2)
    return stream, seq

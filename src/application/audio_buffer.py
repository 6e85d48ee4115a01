"""A bounded buffer of audio frames waiting for a connection that is not ready yet."""

from __future__ import annotations

from collections import deque


class AudioBacklog:
    """Frames in arrival order, at most `limit_bytes` of them: past that, the oldest are
    dropped (a caller heard late is worse than a caller's first words lost), and
    counted in `dropped_bytes`. Pure bookkeeping: no I/O, no awaiting."""

    __slots__ = ("_bytes", "_frames", "_limit_bytes", "dropped_bytes")

    def __init__(self, limit_bytes: int) -> None:
        self._frames: deque[bytes] = deque()
        self._bytes = 0
        self._limit_bytes = limit_bytes
        self.dropped_bytes = 0

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        return f"AudioBacklog({len(self._frames)} frames, {self._bytes} bytes)"

    def append(self, frame: bytes) -> None:
        self._frames.append(frame)
        self._bytes += len(frame)
        while self._bytes > self._limit_bytes:
            dropped = self._frames.popleft()
            self._bytes -= len(dropped)
            self.dropped_bytes += len(dropped)

    def pop(self) -> bytes:
        """The oldest frame; `IndexError` when empty."""
        frame = self._frames.popleft()
        self._bytes -= len(frame)
        return frame

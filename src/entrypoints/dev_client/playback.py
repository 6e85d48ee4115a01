"""Twilio's side of playout, as pure bookkeeping: the queue of agent audio, marks, clears.

Audio queued by the server plays at 8000 bytes per second; a mark comes back once the
audio queued before it has played, or at once when a `clear` drops that audio.
"""

from __future__ import annotations

from collections import deque

from entrypoints.dev_client.audio import FRAME_BYTES, MULAW_SILENCE

SILENCE_FRAME = bytes([MULAW_SILENCE]) * FRAME_BYTES


class PlaybackQueue:
    """The agent audio waiting to play, with the marks placed between it."""

    def __init__(self) -> None:
        self._queue = bytearray()
        self._queued_total = 0
        self._played_total = 0
        self._marks: deque[tuple[int, str]] = deque()
        self.cleared_bytes = 0
        """Audio dropped by `clear` before it played."""
        self.clears = 0

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, audio: bytes) -> None:
        self._queue += audio
        self._queued_total += len(audio)

    def add_mark(self, name: str) -> None:
        self._marks.append((self._queued_total, name))

    def take(self, n_bytes: int = FRAME_BYTES) -> bytes:
        """The next `n_bytes` to play, padded with silence when the queue runs dry."""
        chunk = bytes(self._queue[:n_bytes])
        del self._queue[:n_bytes]
        self._played_total += len(chunk)
        return chunk + bytes([MULAW_SILENCE]) * (n_bytes - len(chunk))

    def due_marks(self) -> list[str]:
        """Marks whose audio has now played (each returned once)."""
        due = []
        while self._marks and self._marks[0][0] <= self._played_total:
            due.append(self._marks.popleft()[1])
        return due

    def clear(self) -> list[str]:
        """Drop everything queued; every pending mark is due at once."""
        self.clears += 1
        self.cleared_bytes += len(self._queue)
        self._queue.clear()
        self._queued_total = self._played_total
        due = [name for _, name in self._marks]
        self._marks.clear()
        return due

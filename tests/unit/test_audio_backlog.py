"""The audio backlog keeps the newest frames within its limit, in order."""

from __future__ import annotations

import pytest

from application.audio_buffer import AudioBacklog


def test_frames_come_back_oldest_first() -> None:
    backlog = AudioBacklog(limit_bytes=100)
    for frame in (b"a" * 10, b"b" * 10, b"c" * 10):
        backlog.append(frame)
    assert [backlog.pop() for _ in range(len(backlog))] == [b"a" * 10, b"b" * 10, b"c" * 10]
    assert backlog.dropped_bytes == 0
    with pytest.raises(IndexError):
        backlog.pop()


def test_past_the_limit_the_oldest_frames_are_dropped_and_counted() -> None:
    backlog = AudioBacklog(limit_bytes=25)
    for frame in (b"a" * 10, b"b" * 10, b"c" * 10):
        backlog.append(frame)
    assert backlog.dropped_bytes == 10
    assert [backlog.pop(), backlog.pop()] == [b"b" * 10, b"c" * 10]
    assert "0 frames, 0 bytes" in repr(backlog)

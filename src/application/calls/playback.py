"""What the caller has heard of the agent's turns: the bookkeeping behind "hang up only
after the goodbye has played" and "a barge-in interrupted something audible".

Pure and synchronous: the session tells it what it sent to the leg and what the leg
reported, and asks it questions; `played` wakes whoever waits for a turn to finish."""

from __future__ import annotations

import asyncio


class Playback:
    def __init__(self) -> None:
        self.turns_started = 0
        """Turns the agent began (its first audio, or its announcement of speaking)."""
        self.turns_done = 0
        """Turns whose audio has all gone to the leg."""
        self.turns_played = 0
        """The latest turn the leg reported heard."""
        self._pending: set[int] = set()
        self._audio_unfinished = False
        """Audio of the current turn has gone to the leg, and its end not yet."""
        self.played = asyncio.Event()
        """Set whenever the leg reports a pending turn played."""

    def audio_sent(self) -> None:
        """Agent audio went to the leg; the first of a turn starts the turn."""
        if not self._audio_unfinished:
            self._audio_unfinished = True
            self.turns_started += 1

    def speaking_announced(self) -> None:
        """The agent said it started speaking; its audio may take a while yet."""
        self.turns_started += 1

    @property
    def turn_open(self) -> bool:
        """Audio of a turn has gone out and its end not yet (a reconnect cut it off)."""
        return self._audio_unfinished

    def finish_turn(self) -> int:
        """The current turn's audio is all out: its number, now awaited as pending."""
        self.turns_done += 1
        self._pending.add(self.turns_done)
        self._audio_unfinished = False
        return self.turns_done

    def turn_played(self, turn: int) -> None:
        """The leg reports `turn` heard (or dropped by an interrupt); others are ignored."""
        if turn in self._pending:
            self._pending.discard(turn)
            self.turns_played = max(self.turns_played, turn)
            self.played.set()

    def barge_in(self) -> bool:
        """The caller spoke over the agent; True when something was still audible."""
        audible = self._audio_unfinished or bool(self._pending)
        self._audio_unfinished = False
        return audible

    def all_played(self) -> bool:
        return not self._audio_unfinished and not self._pending

"""Talking to the operator: prompts only on a terminal, plain-words failures otherwise."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


class SetupFailed(Exception):
    """Setup cannot go on; `problem` says why and `remedy` what to do about it."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}; {remedy}")
        self.problem, self.remedy = problem, remedy


class Console:
    """Asks only when stdin is a terminal; without one (CI, pipes) a missing answer is a
    `SetupFailed` naming the flag or variable that supplies it."""

    def __init__(self, *, interactive: bool | None = None, assume_yes: bool = False) -> None:
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self.assume_yes = assume_yes

    def say(self, text: str) -> None:
        print(text, flush=True)

    def warn(self, text: str) -> None:
        print(f"note: {text}", file=sys.stderr, flush=True)

    def ask(self, question: str, *, missing: SetupFailed) -> str:
        if not self.interactive:
            raise missing
        answer = input(f"{question}: ").strip()
        if not answer:
            raise missing
        return answer

    def ask_secret(self, question: str, *, missing: SetupFailed) -> str:
        if not self.interactive:
            raise missing
        answer = getpass.getpass(f"{question} (not shown): ").strip()
        if not answer:
            raise missing
        return answer

    def confirm(self, question: str, *, refused: SetupFailed | None = None) -> bool:
        """True with --yes or a "y" answer. Without a terminal and without --yes: raises
        `refused` if given, else answers no."""
        if self.assume_yes:
            return True
        if not self.interactive:
            if refused is not None:
                raise refused
            return False
        return input(f"{question} [y/N]: ").strip().lower() in {"y", "yes"}

    def choose(
        self, question: str, items: Sequence[T], label: Callable[[T], str], *, missing: SetupFailed
    ) -> T:
        if len(items) == 1:
            return items[0]
        if not self.interactive:
            raise missing
        for index, item in enumerate(items, start=1):
            self.say(f"  {index}. {label(item)}")
        while True:
            answer = input(f"{question} [1-{len(items)}]: ").strip()
            if answer.isdigit() and 1 <= int(answer) <= len(items):
                return items[int(answer) - 1]
            self.say(f"type a number from 1 to {len(items)}")

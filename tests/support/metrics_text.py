"""Reading one sample out of a Prometheus text exposition, for tests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable


def sample(text: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = (
        re.escape(name) + (r"\{" + re.escape(selector) + r"\}" if selector else "") + r" (\S+)"
    )
    match = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    assert match, f"{name}{{{selector}}} not in /metrics"
    return float(match.group(1))


def scrape_when(
    scrape: Callable[[], str], name: str, at_least: float, timeout_s: float = 5.0, **labels: str
) -> str:
    """The exposition once sample `name{labels}` has reached `at_least` (a counter the
    server bumps just after the effect the test saw); the last scrape after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = scrape()
        try:
            if sample(text, name, **labels) >= at_least:
                return text
        except AssertionError:
            pass
        if time.monotonic() > deadline:
            return text
        time.sleep(0.02)  # polling the server's exposition

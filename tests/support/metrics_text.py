"""Reading one sample out of a Prometheus text exposition, for tests."""

from __future__ import annotations

import re


def sample(text: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = (
        re.escape(name) + (r"\{" + re.escape(selector) + r"\}" if selector else "") + r" (\S+)"
    )
    match = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    assert match, f"{name}{{{selector}}} not in /metrics"
    return float(match.group(1))

"""A minimal `AgentProfile` for tests of the voice agent adapter."""

from __future__ import annotations

from application.ports.voice import AgentProfile


def a_profile(greeting: str | None = None) -> AgentProfile:
    return AgentProfile(
        prompt="You are a receptionist.",
        greeting=greeting,
        tools=[],
    )

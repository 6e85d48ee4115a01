"""How long a call's parts may take: goodbyes, tools, the whole call, agent recovery,
and retries of its final record."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.calls.agent_link import RecoveryLimits


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionLimits:
    goodbye_timeout_s: float = 8.0
    """Longest wait for the goodbye to play before a hang-up or transfer happens anyway."""
    goodbye_grace_s: float = 2.0
    """When everything the agent said has played by the time it asks to hang up or
    transfer (its goodbye came first), how long it has to start saying something more
    before the call ends without waiting for another turn."""
    tool_timeout_s: float = 10.0
    tool_drain_timeout_s: float = 3.0
    """On hang-up, how long running tools may take to finish (commit or roll back)."""
    max_call_s: float = 30 * 60
    agent_recovery: RecoveryLimits = field(default_factory=RecoveryLimits)
    """How a voice agent connection that fails mid-call is re-opened (see `AgentLink`)."""
    record_retry_s: float = 300.0
    """How long a final call record the database refused (an outage) is retried."""
    record_retry_backoff_s: float = 0.5
    """The first pause between those retries (see `FinalRecord`)."""

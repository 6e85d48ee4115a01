"""Render a provider-neutral `AgentProfile` as the Deepgram `Settings` for a phone call.

Pure: no I/O. Telephony audio is 8 kHz mu-law both ways with no container, so the
agent's audio goes to Twilio byte for byte. Functions carry no `endpoint`: the
service asks us to run them (`client_side: true`).
"""

from __future__ import annotations

from typing import Final

from adapters.deepgram.messages import (
    Agent,
    AudioInput,
    AudioOutput,
    AudioSettings,
    Context,
    Function,
    FunctionCallRecord,
    HistoryFunctionCalls,
    HistoryMessage,
    Listen,
    ListenProvider,
    Settings,
    Speak,
    SpeakProvider,
    Think,
    ThinkProvider,
)
from application.ports.voice import AgentProfile, HistoryItem, ToolCallHistory

DEFAULT_LISTEN_MODEL: Final = "flux-general-en"
TELEPHONY_ENCODING: Final = "mulaw"
TELEPHONY_SAMPLE_RATE_HZ: Final = 8000


def render_settings(profile: AgentProfile) -> Settings:
    """The `Settings` message for `profile`; optional parts absent rather than null."""
    listen_model = profile.listen_model or DEFAULT_LISTEN_MODEL
    return Settings(
        audio=AudioSettings(
            input=AudioInput(encoding=TELEPHONY_ENCODING, sample_rate=TELEPHONY_SAMPLE_RATE_HZ),
            output=AudioOutput(
                encoding=TELEPHONY_ENCODING,
                sample_rate=TELEPHONY_SAMPLE_RATE_HZ,
                container="none",
            ),
        ),
        agent=Agent(
            listen=Listen(
                provider=ListenProvider(
                    type="deepgram",
                    # Flux (turn-taking STT) is the v2 listen API; other models are v1.
                    version="v2" if listen_model.startswith("flux") else "v1",
                    model=listen_model,
                    keyterms=list(profile.keyterms) or None,
                )
            ),
            think=Think(
                provider=ThinkProvider(type=profile.think_provider, model=profile.think_model),
                prompt=profile.prompt,
                functions=[
                    Function(
                        name=tool.name,
                        description=tool.description,
                        parameters=dict(tool.parameters),
                    )
                    for tool in profile.tools
                ]
                or None,
            ),
            speak=Speak(provider=SpeakProvider(type="deepgram", model=profile.speak_model)),
            greeting=profile.greeting,
            context=Context(messages=[_history_message(item) for item in profile.history])
            if profile.history
            else None,
        ),
    )


def _history_message(item: HistoryItem | ToolCallHistory) -> HistoryMessage | HistoryFunctionCalls:
    if isinstance(item, HistoryItem):
        return HistoryMessage(role=item.role, content=item.content)
    call = FunctionCallRecord(
        id=item.call_id,
        name=item.name,
        client_side=True,
        arguments=item.arguments,
        response=item.response,
    )
    return HistoryFunctionCalls(function_calls=[call])

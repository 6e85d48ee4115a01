"""Render a provider-neutral `AgentProfile` as the Deepgram `Settings` for a phone call.

Pure: no I/O. The agent hears and speaks the caller's leg's own audio format with no
container, so audio crosses the session byte for byte, with no resampling. Functions
carry no `endpoint`: the service asks us to run them (`client_side: true`).
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
from adapters.deepgram.options import DeepgramOptions
from application.ports.voice import (
    AgentProfile,
    AudioEncoding,
    AudioFormat,
    HistoryItem,
    ToolCallHistory,
)

DEFAULT_LISTEN_MODEL: Final = "flux-general-en"
ENCODINGS: Final = {
    AudioEncoding.PCMU: "mulaw",
    AudioEncoding.PCMA: "alaw",
    AudioEncoding.LINEAR16: "linear16",
}
"""Deepgram's names for the encodings a leg may carry; it takes all three in and out."""


def render_settings(
    profile: AgentProfile, audio: AudioFormat, options: DeepgramOptions | None = None
) -> Settings:
    """The `Settings` message for `profile` hearing and speaking `audio` with `options`'
    models; optional parts absent rather than null. The profile's voice, when it names
    one, wins over `options.speak_model`."""
    options = options or DeepgramOptions()
    listen_model = options.listen_model or DEFAULT_LISTEN_MODEL
    encoding = ENCODINGS[audio.encoding]
    return Settings(
        audio=AudioSettings(
            input=AudioInput(encoding=encoding, sample_rate=audio.sample_rate_hz),
            output=AudioOutput(
                encoding=encoding, sample_rate=audio.sample_rate_hz, container="none"
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
                provider=ThinkProvider(type=options.think_provider, model=options.think_model),
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
            speak=Speak(
                provider=SpeakProvider(type="deepgram", model=profile.voice or options.speak_model)
            ),
            language=profile.language,
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

"""Deepgram Voice Agent API: the `VoiceAgent` adapter and its wire format."""

from adapters.deepgram.agent import DeepgramAgentConnection, DeepgramVoiceAgent
from adapters.deepgram.options import DeepgramOptions
from adapters.deepgram.settings import render_settings

__all__ = [
    "DeepgramAgentConnection",
    "DeepgramOptions",
    "DeepgramVoiceAgent",
    "render_settings",
]

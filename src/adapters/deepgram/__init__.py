"""Deepgram Voice Agent API: the `VoiceAgent` adapter and its wire format."""

from adapters.deepgram.agent import DeepgramAgentConnection, DeepgramVoiceAgent
from adapters.deepgram.settings import render_settings

__all__ = ["DeepgramAgentConnection", "DeepgramVoiceAgent", "render_settings"]

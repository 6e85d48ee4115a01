"""The container picks the voice agent and checks the practice file's provider sections."""

from __future__ import annotations

import dataclasses

import pytest
from dependency_injector import providers
from pydantic import SecretStr

from adapters.deepgram import DeepgramVoiceAgent
from adapters.practice_file import PracticeFileError
from domain.scheduling import Receptionist
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.practice import make_practice


def container_with(provider_options: dict[str, dict[str, object]], **settings: object) -> Container:
    container = Container()
    container.settings.override(providers.Object(Settings(**settings)))  # type: ignore[arg-type]
    practice = dataclasses.replace(
        make_practice(), receptionist=Receptionist(provider_options=provider_options)
    )
    container.practice.override(providers.Object(practice))
    return container


def test_deepgram_is_chosen_and_takes_calls_only_with_its_key() -> None:
    assert isinstance(container_with({}).voice_agent(), DeepgramVoiceAgent)
    assert not container_with({}).agent_configured()
    assert container_with({}, deepgram_api_key=SecretStr("k")).agent_configured()


def test_a_section_for_an_unknown_agent_provider_is_refused_naming_it() -> None:
    with pytest.raises(PracticeFileError, match=r"\[receptionist\.openai\]"):
        container_with({"openai": {"model": "x"}}).voice_agent()


def test_an_unknown_key_in_the_deepgram_section_is_refused_naming_it() -> None:
    with pytest.raises(PracticeFileError, match="speak_modle"):
        container_with({"deepgram": {"speak_modle": "aura"}}).voice_agent()

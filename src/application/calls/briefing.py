"""`BriefAgent`: what the voice agent is told about one call, and what the caller hears
first.

The profile is rendered from the practice, today's date and the caller's upcoming
appointments (looked up by caller ID). When the greeting is at hand as audio
(`GreetingAudio`), the call opens by playing it, and the agent is configured with no
greeting of its own and the greeting in its history as already said, so it neither
repeats it nor loses track of it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from application.calls.greeting_audio import GreetingAudio
from application.errors import StorageUnavailable
from application.ports import AgentProfile, AudioFormat, Clock, HistoryItem
from application.receptionist.profile import receptionist_profile
from application.receptionist.tool_arguments import tool_catalogue
from application.receptionist.tools import ReceptionistTools
from application.scheduling import FindAppointments
from domain.scheduling import Appointment, AppointmentStatus, InvalidInput, PhoneNumber, Practice

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Opening:
    """What the call plays before the agent says anything: `text` as `audio`."""

    text: str
    audio: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Briefing:
    profile: AgentProfile
    opening: Opening | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BriefAgent:
    practice: Practice
    clock: Clock
    tools: ReceptionistTools
    greetings: GreetingAudio | None = None

    async def __call__(self, from_number: str, audio: AudioFormat, *, synthesise: bool) -> Briefing:
        """`synthesise`: wait for the greeting's audio to be made if it is not at hand
        (in the background, before the stream); otherwise use it only if it is."""
        caller = caller_phone(from_number, self.practice.default_region)
        profile = receptionist_profile(
            self.practice,
            now=self.clock.now(),
            tools=tool_catalogue(),
            caller_appointments=await self._upcoming(caller),
        )
        greeting = profile.greeting
        if self.greetings is None or not greeting:
            return Briefing(profile)
        if synthesise:
            sound = await self.greetings.get(greeting, profile.voice, audio)
        else:
            sound = self.greetings.ready(greeting, profile.voice, audio)
        if sound is None:
            return Briefing(profile)
        said = (*profile.history, HistoryItem(role="assistant", content=greeting))
        return Briefing(replace(profile, greeting=None, history=said), Opening(greeting, sound))

    async def _upcoming(self, caller: PhoneNumber | None) -> Sequence[Appointment] | None:
        if caller is None:
            return None
        try:
            page = await self.tools.find_appointments(
                FindAppointments(
                    phone=caller.e164, status=AppointmentStatus.BOOKED, starts_from=self.clock.now()
                )
            )
        except StorageUnavailable:
            log.warning("could not look up the caller's appointments: database unavailable")
            return ()
        return page.items


def caller_phone(raw: str, region: str) -> PhoneNumber | None:
    try:
        return PhoneNumber.parse(raw, default_region=region)
    except InvalidInput:
        return None  # "anonymous", "restricted", a SIP URI...

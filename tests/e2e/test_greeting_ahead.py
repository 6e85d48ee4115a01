"""The greeting made ahead: synthesised once through the speak endpoint, kept on disk,
played the moment the stream starts, with the agent told it has already said it; and
the agent's own greeting when synthesis fails. With the conversation opened at
admission and handed to the stream (counted in `/metrics`)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.phone_fixtures import DEEPGRAM_KEY, phone_line
from tests.support.deepgram_emulator import WaitForClose
from tests.support.fake_deepgram_speak import FakeDeepgramSpeak
from tests.support.twilio_simulator import new_call

from application.receptionist.profile import DEFAULT_GREETING

GREETING = DEFAULT_GREETING.format(practice="Test Dental")
AGENTS_OWN_GREETING = b"\xff" * 1600  # what the emulator speaks for a greeting


def kept_files(directory: Path) -> list[bytes]:
    return [p.read_bytes() for p in directory.glob("*.raw")]


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def test_the_greeting_made_ahead_plays_first_and_the_agent_knows_it_was_said(
    database_url: str, tmp_path: Path
) -> None:
    with FakeDeepgramSpeak(api_key=DEEPGRAM_KEY) as speak:
        async with phone_line(
            database_url,
            [WaitForClose()],
            greeting_audio=True,
            deepgram_speak_url=speak.speak_url,
            frontdesk_data_dir=tmp_path,
        ) as line:
            expected = speak.audio_for(GREETING, "mulaw", 8000)
            for n in range(2):
                call = new_call(from_number="+14155550123")
                sim = await line.dial_in(call)
                await sim.wait_for_audio(len(expected))
                assert bytes(sim.audio[: len(expected)]) == expected
                # played before the agent's conversation is necessarily open
                session = await line.emulator.session(n)
                await session.wait_until(lambda s=session: s.settings is not None)
                assert session.settings is not None
                assert session.settings.agent.greeting is None
                context = session.settings.agent.context
                assert context is not None
                assert [(m.role, m.content) for m in context.messages] == [("assistant", GREETING)]
                await sim.send_stop(then_close=False)
                await sim.wait_closed()  # the server closes it once the record is saved
                sim.assert_no_violations()
                await line.completed(call)
                record = await line.call_record(call.call_sid)
                assert [t["text"] for t in record["turns"]][:1] == [GREETING]
            metrics = (await line.api.get("/metrics")).text
            handed = 'frontdesk_agent_preconnects_total{outcome="handed_over"}'
            assert metric(metrics, handed) == 2
        # synthesised once (at start-up), whatever the number of calls; kept on disk
        assert [(r.text, r.encoding, r.sample_rate) for r in speak.requests] == [
            (GREETING, "mulaw", 8000)
        ]
        assert kept_files(tmp_path / "speech") == [expected]


async def test_when_the_greeting_cannot_be_synthesised_the_agent_says_it(
    database_url: str, tmp_path: Path
) -> None:
    with FakeDeepgramSpeak(api_key=DEEPGRAM_KEY, fail_status=503) as speak:
        async with phone_line(
            database_url,
            [WaitForClose()],
            greeting_audio=True,
            deepgram_speak_url=speak.speak_url,
            frontdesk_data_dir=tmp_path,
        ) as line:
            sim = await line.dial_in()
            await sim.wait_for_audio(len(AGENTS_OWN_GREETING))
            assert bytes(sim.audio[: len(AGENTS_OWN_GREETING)]) == AGENTS_OWN_GREETING
            session = await line.emulator.session(0)
            await session.wait_until(lambda: session.settings is not None)
            assert session.settings is not None
            assert session.settings.agent.greeting == GREETING
            assert session.settings.agent.context is None
            await sim.send_stop()
            await sim.wait_closed()
        assert kept_files(tmp_path / "speech") == []


async def test_a_stream_with_no_agent_opened_ahead_still_plays_the_greeting_at_once(
    database_url: str, tmp_path: Path
) -> None:
    # Nothing opened ahead (as when the webhook reached another worker or instance), and
    # an agent whose handshake takes a second: the greeting does not wait for it.
    with FakeDeepgramSpeak(api_key=DEEPGRAM_KEY) as speak:
        async with phone_line(
            database_url,
            [WaitForClose()],
            greeting_audio=True,
            agent_preconnect=False,
            agent_welcome_delay_s=1.0,
            deepgram_speak_url=speak.speak_url,
            frontdesk_data_dir=tmp_path,
        ) as line:
            expected = speak.audio_for(GREETING, "mulaw", 8000)
            sim = await line.dial_in(new_call(from_number="+14155550123"))
            await sim.wait_for_audio(len(expected))
            assert bytes(sim.audio[: len(expected)]) == expected
            assert all(s.settings is None for s in line.emulator.sessions)  # still opening
            session = await line.emulator.session(0)
            await session.wait_until(lambda: session.settings is not None)
            assert session.settings is not None
            assert session.settings.agent.greeting is None  # told it was said
            await sim.send_stop()
            await sim.wait_closed()
            sim.assert_no_violations()

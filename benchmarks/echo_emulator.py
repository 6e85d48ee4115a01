"""A cloud-like Deepgram emulator that echoes caller audio, in its own process.

    python -m benchmarks.echo_emulator --api-key K --ready R [--welcome-delay-s 0.3
        --settings-delay-s 0.1 --greeting-delay-s 0.2] [--speak-ready S]

Serves `tests.support.deepgram_emulator.DeepgramEmulator` (strict handshake and
Settings validation unchanged) with the delays of a service far away: `Welcome`
after `--welcome-delay-s`, `SettingsApplied` `--settings-delay-s` after `Settings`,
the greeting's first audio `--greeting-delay-s` after that. Then every tagged caller
frame (`benchmarks.frames`) is sent straight back as agent audio, so the caller can
time a relay round trip (caller -> server -> agent -> server -> caller) on one clock.

With `--speak-ready`, the strict fake of the speak endpoint (`tests.support.
fake_deepgram_speak`) is served too, with `--speak-delay-s` per request, and its base
URL written to that file. Runs until SIGTERM/SIGINT (or `--max-lifetime-s`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from tests.support.deepgram_emulator import DeepgramEmulator, EmulatedSession
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from benchmarks.frames import MAGIC


class EchoEmulator(DeepgramEmulator):
    """No script: after the greeting, tagged caller frames come back as agent audio."""

    async def _run(  # type: ignore[override]
        self,
        ws: ServerConnection,
        session: EmulatedSession,
        script: object,
        pending_calls: dict[str, asyncio.Future[str]],
        speaking: asyncio.Lock,
        receiver: asyncio.Task[None],
    ) -> None:
        session.script_done = True

    async def _receive(  # type: ignore[override]
        self,
        ws: ServerConnection,
        session: EmulatedSession,
        pending_calls: dict[str, asyncio.Future[str]],
        speaking: asyncio.Lock,
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                if isinstance(frame, bytes) and frame[:2] == MAGIC:
                    await ws.send(frame)
        session.receiving = False


async def main_async(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    emulator = EchoEmulator(
        api_key=args.api_key,
        welcome_delay_s=args.welcome_delay_s,
        settings_delay_s=args.settings_delay_s,
        greeting_delay_s=args.greeting_delay_s,
    )
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(emulator)
        if args.speak_ready:
            from tests.support.fake_deepgram_speak import FakeDeepgramSpeak

            speak = stack.enter_context(
                FakeDeepgramSpeak(api_key=args.api_key, delay_s=args.speak_delay_s)
            )
            Path(args.speak_ready).write_text(speak.base_url)  # noqa: ASYNC240
        Path(args.ready).write_text(emulator.url)  # noqa: ASYNC240
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=args.max_lifetime_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--ready", required=True, help="file to write the agent URL to")
    parser.add_argument("--welcome-delay-s", type=float, default=0.0)
    parser.add_argument("--settings-delay-s", type=float, default=0.0)
    parser.add_argument("--greeting-delay-s", type=float, default=0.0)
    parser.add_argument("--speak-ready", help="also serve the speak endpoint; its URL here")
    parser.add_argument("--speak-delay-s", type=float, default=0.0)
    parser.add_argument("--max-lifetime-s", type=float, default=900)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()

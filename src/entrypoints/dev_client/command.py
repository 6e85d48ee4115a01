"""The `frontdesk dev-client` subcommand: arguments, Ctrl-C, devices, the recording."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from entrypoints.dev_client.audio import (
    MULAW_SILENCE,
    PHONE_RATE_HZ,
    UnsupportedWav,
    wav_to_mulaw,
    write_conversation,
)
from entrypoints.dev_client.client import (
    AudioSource,
    BytesSource,
    DevCall,
    DevCallOptions,
    DevCallResult,
    DevClientError,
    Player,
)

if TYPE_CHECKING:
    from entrypoints.settings import Settings


def run_dev_client(args: argparse.Namespace, settings: Settings) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request: noise here
    keys = settings.frontdesk_api_keys
    token = settings.twilio_auth_token
    options = DevCallOptions(
        server_url=args.url or f"http://127.0.0.1:{settings.port}",
        # What the server verifies signatures against: its PUBLIC_URL, else the URL it
        # is reached at (`serve --port` does not change this process's settings).
        public_url=settings.public_url or args.url or settings.public_base_url,
        auth_token=token.get_secret_value() if token is not None else None,
        api_key=args.api_key or (keys[0].get_secret_value() if keys else None),
        account_sid=settings.twilio_account_sid,
        from_number=args.from_number,
        to_number=args.to_number,
    )
    try:
        asyncio.run(_until_ctrl_c(options, args.wav, args.record))
    except DevClientError as error:
        print(f"frontdesk dev-client: {error}", file=sys.stderr)
        return 1
    return 0


async def _until_ctrl_c(options: DevCallOptions, wav: Path | None, record: Path | None) -> None:
    hang_up = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # Windows: KeyboardInterrupt instead
        loop.add_signal_handler(signal.SIGINT, hang_up.set)
    await dev_call(options, wav=wav, record=record, hang_up=hang_up)


async def dev_call(
    options: DevCallOptions,
    *,
    wav: Path | None,
    record: Path | None,
    hang_up: asyncio.Event | None = None,
    out: TextIO = sys.stdout,
) -> DevCallResult:
    """One call: from `wav` (then silence) or the microphone; recorded to `record`.

    The recording is written whatever way the call ends, errors included.
    """
    devices = None
    source: AudioSource
    player: Player | None = None
    if wav is not None:
        try:
            source = BytesSource(wav_to_mulaw(wav))
        except (OSError, UnsupportedWav) as error:
            raise DevClientError(f"cannot read {wav}: {error}") from None
    else:
        from entrypoints.dev_client.devices import AudioDevicesMissing, Devices

        try:
            devices = Devices()
        except AudioDevicesMissing as error:
            raise DevClientError(str(error)) from None
        source = player = devices
        devices.start()
    call = DevCall(options, source, player=player, out=out)
    try:
        return await call.run(hang_up)
    finally:
        if devices is not None:
            devices.close()
        if record is not None:
            save_recording(record, call.result, out)


def save_recording(path: Path, result: DevCallResult, out: TextIO) -> None:
    """Write the call to `path` and say what it holds. A call that carried no audio
    (refused, or ended before the stream opened) writes nothing rather than an empty
    file; one where the agent stayed silent is written, with where to look."""
    caller, agent = bytes(result.caller_audio), bytes(result.agent_audio)
    if not caller and not agent:
        print(
            f"-- nothing recorded: the call ended before any audio flowed, so {path} was "
            "not written -> see the error above and the server's log",
            file=out,
            flush=True,
        )
        return
    write_conversation(path, caller, agent)
    seconds = len(caller) / PHONE_RATE_HZ
    if not agent.strip(bytes([MULAW_SILENCE])):
        print(
            f"-- recorded {seconds:.1f} s to {path}, but the agent never spoke -> see the "
            "server's log (without DEEPGRAM_API_KEY, calls go straight to the front desk)",
            file=out,
            flush=True,
        )
        return
    print(f"-- recorded the conversation ({seconds:.1f} s) to {path}", file=out, flush=True)

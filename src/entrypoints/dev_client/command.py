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

from entrypoints.dev_client.audio import UnsupportedWav, wav_to_mulaw, write_conversation
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
            write_conversation(
                record, bytes(call.result.caller_audio), bytes(call.result.agent_audio)
            )
            print(f"-- recorded the conversation to {record}", file=out, flush=True)

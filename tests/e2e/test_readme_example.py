"""The README's API example, run as written against `frontdesk serve` on the embedded
default and the real clock: it must book the next free slot on whatever day it runs."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.e2e.test_cli_errors import clean_env, closed_port

README = Path(__file__).resolve().parents[2] / "README.md"

CURL = '''#!{python}
"""Enough of curl for the README: -s, -H NAME:VALUE, -d BODY (a POST), one URL."""
import sys, urllib.request
args, headers, data, url = sys.argv[1:], {{}}, None, None
while args:
    arg = args.pop(0)
    if arg == "-H":
        name, _, value = args.pop(0).partition(":")
        headers[name.strip()] = value.strip()
    elif arg == "-d":
        data = args.pop(0).encode()
    elif arg != "-s":
        url = arg if "://" in arg else "http://" + arg
request = urllib.request.Request(url, data=data, headers=headers)
try:
    response = urllib.request.urlopen(request, timeout=10)
except urllib.error.HTTPError as error:
    response = error
sys.stdout.write(response.read().decode())
'''


def readme_example() -> str:
    text = README.read_text()
    section = text[text.index("Try the API") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_example_books_the_next_free_slot_today(tmp_path: Path) -> None:
    example = readme_example()
    assert "/slots?service=checkup&limit=1" in example
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"  # a stand-in, so the test does not depend on curl's presence
    curl.write_text(CURL.format(python=sys.executable))
    curl.chmod(curl.stat().st_mode | stat.S_IEXEC)
    (bin_dir / "python3").symlink_to(sys.executable)

    port = closed_port()
    env = clean_env(tmp_path, FRONTDESK_API_KEYS="dev-key", LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)  # polling a starting process
        script = example.replace("localhost:8000", f"127.0.0.1:{port}")
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={**env, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}"},
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert result.returncode == 0, result.stderr
    practice, slot, booking = result.stdout.split("\n", 2)
    assert json.loads(practice)["name"] == "Bright Smile Dental"
    appointment = json.loads(booking)
    assert appointment["slot_id"] == slot
    assert appointment["status"] == "booked"
    assert appointment["patient_phone"] == "+14155550123"

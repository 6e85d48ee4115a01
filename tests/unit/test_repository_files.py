"""The repository as a newcomer meets it: what is committed, what goes into the Docker
build context, and docs that stand on their own."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_no_fly_app_is_committed_and_the_one_setup_writes_is_ignored() -> None:
    assert git("ls-files", "--error-unmatch", "fly.toml").returncode != 0
    assert git("check-ignore", "--quiet", "fly.toml").returncode == 0


def test_the_docker_build_context_leaves_out_local_state_secrets_and_caches() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    expected = {".git", ".venv", ".env", ".frontdesk", "fly.toml", "**/__pycache__"}
    assert expected | {".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"} <= ignored


def test_the_readme_states_the_compose_version_the_optional_env_file_needs() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "required: false" in compose
    assert "Docker Compose 2.24 or newer" in (ROOT / "README.md").read_text()


def test_the_docs_link_nothing_outside_the_repository_or_the_work_behind_it() -> None:
    outside = re.compile(
        r"(?<!\.)\.\./|/work/|ARCHITECTURE\.md|PROTOCOLS\.md|STYLE\.md|\bthe issue\b|"
        r"\b(first|second|third|this) session\b",
        re.IGNORECASE,
    )
    found = [
        f"{doc.name}:{number}: {line.strip()}"
        for doc in DOCS
        for number, line in enumerate(doc.read_text().splitlines(), 1)
        if outside.search(line)
    ]
    assert found == []


def table_rows(page: str, heading: str) -> list[list[str]]:
    table = page.split(f"## {heading}", 1)[1].split("\n\n", 2)[1]
    rows = [row for row in table.splitlines()[2:] if row.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def test_the_performance_page_is_a_reference_with_a_command_for_every_figure() -> None:
    page = (ROOT / "docs" / "performance.md").read_text()
    assert len(page.splitlines()) <= 150
    goals = table_rows(page, "Goals and figures")
    assert len(goals) >= 10
    for figure, goal, now, _before, command in goals:
        assert all((figure, goal, now)), figure
        assert "`" in command or "not shown" in now, figure  # a command to reproduce it
    others = table_rows(page, "Other figures")
    assert len(others) >= 5
    for figure, value, command, when in others:
        assert all((figure, value, when)), figure
        assert "`" in command, figure


def test_troubleshooting_quotes_the_log_line_a_missing_deepgram_key_really_gives() -> None:
    quoted = "no voice agent is configured: the call is turned away"
    page = " ".join((ROOT / "docs" / "troubleshooting.md").read_text().split())
    assert quoted in page
    assert quoted in (ROOT / "src/entrypoints/http/telephony.py").read_text()
    assert "says so at start-up" not in page

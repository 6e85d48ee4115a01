"""What the `frontdesk` command prints when it cannot go on: one line on stderr naming
the setting or the cause and what to do, never a traceback (`--debug` shows it)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


class OperatorError(Exception):
    """A failure the operator fixes: `subject` is the setting (`DATABASE_URL`) or the
    thing (`schema`) at fault, `problem` what is wrong, `remedy` what to do, if known."""

    def __init__(self, subject: str, problem: str, remedy: str | None = None) -> None:
        super().__init__(subject, problem, remedy)
        self.subject = subject
        self.problem = problem
        self.remedy = remedy

    def __str__(self) -> str:
        line = f"{self.subject}: {self.problem}"
        return f"{line} -> {self.remedy}" if self.remedy else line


def explain(error: BaseException) -> str:
    """The one line (without `error: `) for `error`. Known kinds name their setting; the
    rest give their type and message, and point at `--debug`.

    Exception classes are looked up only in libraries already imported: a failure from
    a library can only exist once that library is loaded, and the CLI stays fast."""
    if isinstance(error, OperatorError):
        return str(error)
    settings_problem = _settings_problem(error)
    if settings_problem is not None:
        return settings_problem
    practice = sys.modules.get("adapters.practice_file.loader")
    if practice is not None and isinstance(error, practice.PracticeFileError):
        return "PRACTICE_FILE " + str(error).removeprefix("practice file ")
    scripted = sys.modules.get("adapters.scripted.script")
    if scripted is not None and isinstance(error, scripted.ScriptError):
        return str(error)  # names the file and the key
    lines = str(error).strip().splitlines()  # SQLAlchemy appends the statement and a link
    detail = lines[0] if lines else "(no message)"
    return f"{type(error).__name__}: {detail} (run with --debug for the traceback)"


def _settings_problem(error: BaseException) -> str | None:
    pydantic_core = sys.modules.get("pydantic_core")
    if pydantic_core is None or not isinstance(error, pydantic_core.ValidationError):
        return None
    if not error.title.endswith("Settings"):  # Settings, SetupSettings, DoctorSettings
        return None
    first = error.errors()[0]
    setting = str(first["loc"][0]).upper() if first["loc"] else "settings"
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{setting}: {first['msg']}{suffix}"


def report(error: BaseException, *, secrets: Sequence[str] = ()) -> None:
    """Print `error: <one line>` on stderr, with every configured secret removed."""
    line = explain(error)
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        line = line.replace(secret, "[redacted]")
    print(f"error: {line}", file=sys.stderr)

"""The front-desk console: server-rendered pages where staff see and correct what the
receptionist did. Sessions are cookies; every form carries a CSRF token."""

from entrypoints.console.routes import TEMPLATES_DIR, console_routers

__all__ = ["TEMPLATES_DIR", "console_routers"]

"""The front-desk console: server-rendered pages where staff see and correct what the
receptionist did. Sessions are cookies; every form carries a CSRF token.

`entrypoints.console.routes.console_routers` mounts it (imported by `create_app` when it
builds the app: the pages import the HTTP package's live-events broker)."""

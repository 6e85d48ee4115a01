"""Telnyx: TeXML webhooks, Ed25519 signatures and bidirectional media streaming."""

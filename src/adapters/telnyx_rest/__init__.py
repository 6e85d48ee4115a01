"""Telnyx's REST API v2: sending texts (`messaging`)."""

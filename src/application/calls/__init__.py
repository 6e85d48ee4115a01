"""Calls: admitting them, running their sessions, and their records."""

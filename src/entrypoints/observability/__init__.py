"""Logs and metrics: what an operator sees of every call."""

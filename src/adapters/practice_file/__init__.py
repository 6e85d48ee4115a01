"""Loads a practice definition from a TOML file."""

from adapters.practice_file.loader import PracticeFileError, load_practice

__all__ = ["PracticeFileError", "load_practice"]

"""Files under the server's data directory that spare repeating slow work."""

from adapters.file_cache.speech import FileCachedSpeech

__all__ = ["FileCachedSpeech"]

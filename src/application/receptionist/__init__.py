"""The receptionist: its profile (prompt, greeting, voice) and its tools."""

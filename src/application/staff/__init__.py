"""Staff use cases: accounts (for the CLI), signing in and out, resuming a session."""

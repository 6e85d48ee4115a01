"""Load and latency harnesses. Scripts, not tests: pytest never collects them."""

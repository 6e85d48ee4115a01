"""Fly.io through the `flyctl` command: apps, Postgres, secrets, deploys."""

from adapters.fly.errors import FlyError
from adapters.fly.fly_toml import GENERATED_MARK, render_fly_toml
from adapters.fly.flyctl import Flyctl

__all__ = ["GENERATED_MARK", "FlyError", "Flyctl", "render_fly_toml"]

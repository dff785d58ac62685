"""Wires the digasec pytest plugin; it stays inactive unless a profile is given (--profile or DIGASEC_PROFILE)."""

pytest_plugins = ["fixtures.engine.plugin"]

"""The project's own YAML data files (messages, i18n strings, requirements), read once per process."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_yaml(path: Path) -> Any:
    """`path` parsed as safe YAML, with libyaml's parser where PyYAML was built with it: the same documents, about
    ten times faster than the pure-Python parser (the messages catalogue took 0.08 s of every German report)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=loader)  # a SafeLoader (C or Python): safe

"""``python -m demo --host 127.0.0.1 --port PORT``: run the demo backend (configuration: see settings.py)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from demo.app import create_app
from demo.flaws import UnknownFlawError
from demo.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo", description="MoodDiary demo DiGA backend")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except UnknownFlawError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning", workers=1)


if __name__ == "__main__":
    main()

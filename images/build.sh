#!/usr/bin/env bash
# Build the demo's container images locally (Debian base via debootstrap + docker import, Keycloak, demo backend).
# Unchanged inputs are not rebuilt. Options: see `images/build.sh --help` (the logic lives in images/build.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/digasec" --help >/dev/null   # makes sure .venv exists (pinned by constraints.txt)
exec "$root/.venv/bin/python" "$root/images/build.py" "$@"

#!/usr/bin/env bash
# Make `docker compose` (Compose v2, the Docker CLI plugin) available, for profiles with containers.compose.
#
# Debian 12 packages only the old Python docker-compose 1.x, which testcontainers cannot drive. When no v2 plugin
# answers, this builds the pinned release from its Go module (the Go toolchain fetches the sources through its own
# module proxy), caches the binary under ~/.cache/digasec and installs it as a CLI plugin of the current user.
# Nothing happens when a v2 plugin is already there. Usage: images/compose-plugin.sh [--force]
set -euo pipefail

VERSION="${DIGASEC_COMPOSE_VERSION:-v2.40.3}"
MODULE="github.com/docker/compose/v2"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/digasec/compose-$VERSION"
PLUGINS="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

if [[ "${1:-}" != "--force" ]] && found=$(docker compose version --short 2>/dev/null) && [[ "$found" =~ ^v?2\. ]]; then
  echo "compose-plugin: docker compose $found is available"
  exit 0
fi

if [[ ! -x "$CACHE/docker-compose" ]]; then
  command -v go >/dev/null || { echo "compose-plugin: no Compose v2 plugin and no Go toolchain to build one" >&2; exit 1; }
  started=$(date +%s)
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
  # `go install module@version` refuses modules whose go.mod has exclude/replace directives: build it as the
  # main module from its downloaded source instead.
  source_dir=$(go mod download -json "$MODULE@$VERSION" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  cp -r "$source_dir" "$work/src"
  chmod -R u+w "$work/src"
  mkdir -p "$CACHE"
  (cd "$work/src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $MODULE/internal.Version=$VERSION" \
     -o "$CACHE/docker-compose.partial" ./cmd)
  mv "$CACHE/docker-compose.partial" "$CACHE/docker-compose"
  echo "compose-plugin: built Compose $VERSION in $(( $(date +%s) - started )) s"
fi

mkdir -p "$PLUGINS"
install -m 0755 "$CACHE/docker-compose" "$PLUGINS/docker-compose"
echo "compose-plugin: installed $PLUGINS/docker-compose ($(docker compose version --short))"

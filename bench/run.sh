#!/usr/bin/env bash
# Installs what the bench harness needs when missing, builds setsuna, and runs
# `setsuna bench` with the given flags (make bench / make bench-quick).
#   redis-server: Debian package     taskset: util-linux (Debian)
#   nats-server:  go install from the Go module proxy into .tools/
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
TOOLS=${TOOLS:-$PWD/.tools}
NATS_SERVER_VERSION=${NATS_SERVER_VERSION:-v2.15.2}

apt_install() {
	local sudo=""
	if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
	echo "bench: installing $* with apt-get" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

command -v redis-server >/dev/null 2>&1 || apt_install redis-server
command -v taskset >/dev/null 2>&1 || apt_install util-linux
if [ ! -x "$TOOLS/nats-server" ]; then
	echo "bench: installing nats-server $NATS_SERVER_VERSION into $TOOLS" >&2
	GOBIN="$TOOLS" $GO install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
fi

$GO build -o bin/setsuna ./cmd/setsuna
exec bin/setsuna bench --tools "$TOOLS" "$@"

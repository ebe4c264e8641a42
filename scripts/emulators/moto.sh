#!/usr/bin/env bash
# moto_server for the AWS queue adapter's tests (SQS; later EventBridge and S3), bound to
# 127.0.0.1 only. moto_server is on the machine image (pip package moto[server]).
#
#   scripts/emulators/moto.sh start    start, wait until it answers
#   scripts/emulators/moto.sh stop     stop the server this script started (by its PID file)
#   scripts/emulators/moto.sh status   say whether it runs
#   scripts/emulators/moto.sh env      print the variables the tests read (eval "$(… env)")
#
# Environment:
#   MOTO_PORT         port (default 5000)
#   ORDERHUB_CACHE    cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/orderhub); PID and log
#                     files go to $ORDERHUB_CACHE/run
#
# Start and stop are idempotent and print nothing on success. moto keeps everything in memory:
# a restart forgets every queue.
set -euo pipefail

HOST=127.0.0.1
PORT="${MOTO_PORT:-5000}"
CACHE="${ORDERHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orderhub}"
RUN_DIR="$CACHE/run"
PID_FILE="$RUN_DIR/moto-$PORT.pid"
LOG_FILE="$RUN_DIR/moto-$PORT.log"
ENDPOINT="http://$HOST:$PORT"

die() {
	echo "moto: $*" >&2
	exit 1
}

case "$PORT" in
'' | *[!0-9]*) die "MOTO_PORT must be a port number, got '$PORT'" ;;
esac

# running_pid prints the PID from the PID file when that process is alive and is moto_server.
running_pid() {
	[ -f "$PID_FILE" ] || return 1
	local pid
	pid="$(cat "$PID_FILE" 2>/dev/null || true)"
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	kill -0 "$pid" 2>/dev/null || return 1
	# A stale PID file may name a process that reused the PID: only ours runs moto.
	if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q moto; then
		return 1
	fi
	echo "$pid"
}

# answers reports whether moto answers on the port: its dashboard API returns 200 with JSON.
answers() {
	local code
	code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/moto-api/data.json" 2>/dev/null || true)"
	[ "$code" = "200" ]
}

# anything_listens reports whether some HTTP server (moto or not) holds the port.
anything_listens() {
	local code
	code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/" 2>/dev/null || true)"
	[ -n "$code" ] && [ "$code" != "000" ]
}

start() {
	mkdir -p "$RUN_DIR"
	if pid="$(running_pid)"; then
		answers && return 0
		wait_until_up "$pid"
		return
	fi
	rm -f "$PID_FILE"
	if anything_listens; then
		die "port $PORT is taken by another process; set MOTO_PORT"
	fi
	local bin
	bin="$(command -v moto_server || true)"
	[ -n "$bin" ] || die "moto_server not found: pip install 'moto[server]'"
	# setsid: the server outlives this script and is not hit by signals sent to the caller's
	# process group; the inner shell writes its own PID and then becomes moto_server (through
	# exec, also past a pyenv shim, which execs python in turn), so the PID file names the server.
	setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_FILE" \
		"$bin" -H "$HOST" -p "$PORT" </dev/null >"$LOG_FILE" 2>&1 &
	local i pid=""
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
	for i in $(seq 1 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PID_FILE"
			tail -n 20 "$LOG_FILE" >&2 || true
			die "exited before answering on $ENDPOINT; log: $LOG_FILE"
		fi
		answers && return 0
		sleep 0.1
	done
	die "no answer on $ENDPOINT after 30s (PID $pid); log: $LOG_FILE"
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
		echo "moto_server runs on $ENDPOINT (PID $pid)"
	else
		echo "moto_server is not running (port $PORT)"
		exit 3
	fi
	;;
env)
	echo "export ORDERHUB_SQS_ENDPOINT=$ENDPOINT"
	;;
*)
	echo "usage: $0 start|stop|status|env" >&2
	exit 2
	;;
esac

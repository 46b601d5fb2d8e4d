#!/usr/bin/env bash
# Google's official Python client (google-api-python-client) against `threadline emulator`.
# Starts the emulator on a free port, runs .ci/emulator/google_client.py, stops it.
# Exits non-zero on any failure. THREADLINE_BIN overrides the binary (default target/debug).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${THREADLINE_BIN:-target/debug/threadline}"
DISCOVERY="${GMAIL_DISCOVERY:-../shared/provider-schemas/gmail.v1.json}"
[ -f "$DISCOVERY" ] || DISCOVERY="crates/emulator/tests/fixtures/provider-schemas/gmail.v1.json"
[ -x "$BIN" ] || cargo build --quiet
[ -f "$DISCOVERY" ] || { echo "missing $DISCOVERY (nor the vendored copy in crates/emulator/tests/fixtures)"; exit 1; }
python3 -c "import googleapiclient, google_auth_httplib2" 2>/dev/null \
  || python3 -m pip install --quiet google-api-python-client google-auth-httplib2
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
LOG="$(mktemp)"
"$BIN" emulator --bind "127.0.0.1:$PORT" --seed 7 --mailboxes 2 --messages 300 --quota off >"$LOG" 2>&1 &
EMU_PID=$!
trap 'kill "$EMU_PID" 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/_emulator/mailboxes', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$EMU_PID" 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.1
done
python3 .ci/emulator/google_client.py "http://127.0.0.1:$PORT" "$DISCOVERY"

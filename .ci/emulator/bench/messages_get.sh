#!/usr/bin/env bash
# Throughput of Gmail messages.get (format=full) with quota off, measured with wrk.
# Usage: .ci/emulator/bench/messages_get.sh [BIN] [DURATION]   (BIN default target/release/threadline)
# Not run by .ci/run (it lives in a subfolder): build with `cargo build --release` first.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN="${1:-target/release/threadline}"
DURATION="${2:-15s}"
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 1; }
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
"$BIN" emulator --bind "127.0.0.1:$PORT" --seed 1 --mailboxes 1 --messages 2000 --quota off --auto-consent >/dev/null 2>&1 &
EMU_PID=$!
WORK="$(mktemp -d)"
trap 'kill "$EMU_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/_emulator/mailboxes" >/dev/null && break; sleep 0.1; done
ADDRESS="$(curl -sf "$BASE/_emulator/mailboxes" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')"
REDIRECT="http://127.0.0.1:9/cb"
LOCATION="$(curl -s -o /dev/null -w '%{redirect_url}' "$BASE/o/oauth2/v2/auth?client_id=bench&response_type=code&scope=https://www.googleapis.com/auth/gmail.readonly&redirect_uri=$REDIRECT&login_hint=$ADDRESS")"
CODE="$(python3 -c 'import sys,urllib.parse as u; print(dict(u.parse_qsl(u.urlparse(sys.argv[1]).query))["code"])' "$LOCATION")"
TOKEN="$(curl -sf -d grant_type=authorization_code -d client_id=bench -d client_secret=x -d "redirect_uri=$REDIRECT" --data-urlencode "code=$CODE" "$BASE/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/gmail/v1/users/me/messages?maxResults=500" \
  | python3 -c 'import json,sys; print("\n".join(m["id"] for m in json.load(sys.stdin)["messages"]))' > "$WORK/ids"
python3 - "$WORK/ids" "$TOKEN" > "$WORK/get.lua" <<'PY'
import sys
ids = open(sys.argv[1]).read().split()
print("ids = {" + ",".join('"%s"' % i for i in ids) + "}")
print('wrk.headers["Authorization"] = "Bearer %s"' % sys.argv[2])
print("n = 0")
print("request = function() n = n + 1; return wrk.format(nil, '/gmail/v1/users/me/messages/' .. ids[(n % #ids) + 1] .. '?format=full') end")
PY
echo "messages.get format=full over $(wc -l < "$WORK/ids") distinct messages, quota off:"
wrk -t2 -c32 -d"$DURATION" --latency -s "$WORK/get.lua" "$BASE"

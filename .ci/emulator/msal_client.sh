#!/usr/bin/env bash
# Real-client check of the emulator's Microsoft identity + Graph: MSAL for Python obtains an
# app-only token (client credentials) from the emulator's authority and reads a seeded mailbox.
# Starts `threadline emulator` on a free port, seeds a tenant mailbox through the control plane,
# runs .ci/emulator/msal_client.py, stops the emulator. Non-zero exit on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
BIN="${THREADLINE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/threadline}"
TENANT="8f3c2a91-5b7d-4e0a-9c61-2d4b7e9f1a03"
UPN="msal.check@ourco.test"
SUBJECT="MSAL check $(date +%s)"

if [ ! -x "$BIN" ]; then
  cargo build --quiet --bin threadline
fi
python3 -c 'import msal' 2>/dev/null || python3 -m pip install --quiet msal
python3 -c 'import msal, requests' || { echo "msal_client: msal/requests unavailable" >&2; exit 1; }

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
LOG="$(mktemp)"
"$BIN" emulator --bind "127.0.0.1:$PORT" --mailboxes 0 --messages 0 >"$LOG" 2>&1 &
EMU_PID=$!
cleanup() {
  kill "$EMU_PID" 2>/dev/null || true
  wait "$EMU_PID" 2>/dev/null || true
  rm -f "$LOG"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS "$BASE/_emulator/mailboxes" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$EMU_PID" 2>/dev/null; then echo "msal_client: emulator exited:" >&2; cat "$LOG" >&2; exit 1; fi
  sleep 0.1
done
curl -fsS "$BASE/_emulator/mailboxes" >/dev/null || { echo "msal_client: emulator did not answer" >&2; cat "$LOG" >&2; exit 1; }

curl -fsS -X POST "$BASE/_emulator/mailboxes" -H 'content-type: application/json' \
  -d "{\"provider\":\"microsoft\",\"address\":\"$UPN\",\"display_name\":\"MSAL Check\",\"tenant\":\"$TENANT\"}" >/dev/null
printf 'From: Carol <carol@client.test>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <msal-check@client.test>\r\nDate: Tue, 01 Oct 2024 10:00:00 +0000\r\n\r\nHello from the MSAL check.\r\n' "$UPN" "$SUBJECT" |
  curl -fsS -X POST "$BASE/_emulator/mailboxes/$UPN/messages?folder=inbox" -H 'content-type: message/rfc822' --data-binary @- >/dev/null

python3 .ci/emulator/msal_client.py "$BASE" "$TENANT" "$UPN" "$SUBJECT"

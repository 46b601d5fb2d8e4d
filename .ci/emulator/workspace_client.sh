#!/usr/bin/env bash
# Real-client check of the emulator's Google Workspace side: google-auth service-account
# credentials with a subject (domain-wide delegation) plus google-api-python-client for Gmail
# and the Admin SDK Directory API, unmodified. Starts `threadline emulator` on a free port,
# creates a domain, users, a service account (its JSON key file) and a delegation grant through
# the control plane, runs .ci/emulator/workspace_client.py, stops the emulator.
# Non-zero exit on any failure. THREADLINE_BIN overrides the binary (default target/debug).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
BIN="${THREADLINE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/threadline}"
DOMAIN="example.test"
GMAIL="https://www.googleapis.com/auth/gmail.readonly"
DIRECTORY="https://www.googleapis.com/auth/admin.directory.user.readonly"

[ -x "$BIN" ] || cargo build --quiet --bin threadline
python3 -c "import googleapiclient, google_auth_httplib2, google.oauth2.service_account, requests" 2>/dev/null \
  || python3 -m pip install --quiet "google-auth==2.63.1" "google-api-python-client==2.202.0" "google-auth-httplib2==0.4.4" "requests==2.34.2"
python3 -c "import googleapiclient, google_auth_httplib2, google.oauth2.service_account, requests" \
  || { echo "workspace_client: google-auth / google-api-python-client unavailable" >&2; exit 1; }

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
LOG="$(mktemp)"
KEY="$(mktemp)"
"$BIN" emulator --bind "127.0.0.1:$PORT" --mailboxes 0 --messages 0 --quota off >"$LOG" 2>&1 &
EMU_PID=$!
cleanup() {
  kill "$EMU_PID" 2>/dev/null || true
  wait "$EMU_PID" 2>/dev/null || true
  rm -f "$LOG" "$KEY"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  if curl -fsS "$BASE/_emulator/mailboxes" >/dev/null 2>&1; then break; fi
  kill -0 "$EMU_PID" 2>/dev/null || { echo "workspace_client: emulator exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.1
done

post() { curl -fsS -X "${3:-POST}" "$BASE$1" -H 'content-type: application/json' -d "$2"; }
post /_emulator/google/domains "{\"domain\":\"$DOMAIN\"}" >/dev/null
post "/_emulator/google/domains/$DOMAIN/users" '{"primary_email":"admin@example.test","given_name":"Ada","family_name":"Admin","is_admin":true}' >/dev/null
post "/_emulator/google/domains/$DOMAIN/users" '{"primary_email":"ann@example.test","given_name":"Ann","family_name":"Sales","org_unit_path":"/Sales"}' >/dev/null
post "/_emulator/google/domains/$DOMAIN/users" '{"primary_email":"ben@example.test","given_name":"Ben","family_name":"East","org_unit_path":"/Sales/East"}' >/dev/null
post "/_emulator/google/domains/$DOMAIN/users" '{"primary_email":"cid@example.test","given_name":"Cid","family_name":"Gone","suspended":true}' >/dev/null
post "/_emulator/google/domains/$DOMAIN/users" '{"primary_email":"dee@example.test","given_name":"Dee","family_name":"Nomail","is_mailbox_setup":false}' >/dev/null
post /_emulator/google/service-accounts '{"project_id":"threadline-ci","name":"org-sync"}' >"$KEY"
CLIENT_ID="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$KEY")"
post "/_emulator/google/domains/$DOMAIN/delegation/$CLIENT_ID" "{\"scopes\":[\"$GMAIL\",\"$DIRECTORY\"]}" PUT >/dev/null
printf 'From: Carol <carol@client.test>\r\nTo: ann@example.test\r\nSubject: Workspace check\r\nMessage-ID: <workspace-check@client.test>\r\nDate: Tue, 01 Oct 2024 10:00:00 +0000\r\n\r\nHello Ann.\r\n' |
  curl -fsS -X POST "$BASE/_emulator/mailboxes/ann@example.test/messages?labels=INBOX" -H 'content-type: message/rfc822' --data-binary @- >/dev/null

python3 .ci/emulator/workspace_client.py "$BASE" "$KEY"

#!/usr/bin/env bash
# Real-client check of the emulator's Microsoft 365 organization-wide side: MSAL for Python
# `ConfidentialClientApplication` with a certificate credential (private key + thumbprint; MSAL
# signs the client assertion itself) gets an app-only token from a managed tenant, then reads
# the directory (`/users` with `$filter`, paging, `$count`), a group's members and mailboxes
# (in scope, outside the app's RBAC scope, without Exchange). Starts `threadline emulator` on a
# free port, creates the tenant, users, group, app and certificate through the control plane,
# runs .ci/emulator/msal_cert_client.py, stops the emulator. Non-zero exit on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
BIN="${THREADLINE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/threadline}"
TENANT="3d1c7a52-8e4b-4f6a-9a0e-5b2c1d7e9f10"
DOMAIN="contoso.test"
APP="2f7e4c1a-9b3d-4e5f-8a6b-7c9d0e1f2a3b"

[ -x "$BIN" ] || cargo build --quiet --bin threadline
python3 -c 'import msal, requests, cryptography' 2>/dev/null \
  || python3 -m pip install --quiet "msal==1.39.0" "requests==2.34.2" "cryptography==50.0.2"
python3 -c 'import msal, requests, cryptography' || { echo "msal_cert_client: msal/requests/cryptography unavailable" >&2; exit 1; }

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
LOG="$(mktemp)"
CERT="$(mktemp)"
"$BIN" emulator --bind "127.0.0.1:$PORT" --mailboxes 0 --messages 0 --quota off >"$LOG" 2>&1 &
EMU_PID=$!
cleanup() {
  kill "$EMU_PID" 2>/dev/null || true
  wait "$EMU_PID" 2>/dev/null || true
  rm -f "$LOG" "$CERT"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  if curl -fsS "$BASE/_emulator/mailboxes" >/dev/null 2>&1; then break; fi
  kill -0 "$EMU_PID" 2>/dev/null || { echo "msal_cert_client: emulator exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.1
done

post() { curl -fsS -X "${3:-POST}" "$BASE$1" -H 'content-type: application/json' -d "$2"; }
T="/_emulator/microsoft/tenants/$TENANT"
post /_emulator/microsoft/tenants "{\"domain\":\"$DOMAIN\",\"id\":\"$TENANT\"}" >/dev/null
for spec in \
  '{"user_principal_name":"ada@contoso.test","display_name":"Ada Lovelace","department":"Sales"}' \
  '{"user_principal_name":"bob@contoso.test","display_name":"Bob Builder","department":"Sales"}' \
  '{"user_principal_name":"cara@contoso.test","display_name":"Cara Nomail","department":"Support","mailbox":"none"}' \
  '{"user_principal_name":"support@contoso.test","display_name":"Support","mailbox":"shared"}'; do
  post "$T/users" "$spec" >/dev/null
done
post "$T/groups" '{"display_name":"Sales team","members":["ada@contoso.test","bob@contoso.test"]}' >/dev/null
post "$T/apps" "{\"client_id\":\"$APP\",\"admin_consent\":true,\"mailbox_scope\":{\"mailboxes\":[\"ada@contoso.test\",\"support@contoso.test\"]}}" >/dev/null
post "$T/apps/$APP/certificates" '{}' >"$CERT"
for who in ada support; do
  printf 'From: Carol <carol@client.test>\r\nTo: %s@contoso.test\r\nSubject: MSAL certificate check %s\r\nMessage-ID: <msal-cert-%s@client.test>\r\nDate: Tue, 01 Oct 2024 10:00:00 +0000\r\n\r\nHello.\r\n' "$who" "$who" "$who" |
    curl -fsS -X POST "$BASE/_emulator/mailboxes/$who@contoso.test/messages?folder=inbox" -H 'content-type: message/rfc822' --data-binary @- >/dev/null
done

python3 .ci/emulator/msal_cert_client.py "$BASE" "$TENANT" "$APP" "$CERT"

#!/usr/bin/env bash
# Progress that survives restarts (issue 18): the first sync of a generated Gmail and Outlook
# mailbox while the app is killed (SIGKILL) every 4 to 9 s and started again at once, against
# the emulator's realistic latency model and the providers' quotas.
# Prints the stored count at every kill and when the first sync completed.
#
#   cargo build --release && .ci/bench/killed_sync.sh            # both, 10,000 messages each
#   PROVIDER=microsoft MESSAGES=2000 .ci/bench/killed_sync.sh --json
#
# DATABASE_URL may name an empty PostgreSQL database; unset, a fresh SQLite file is used under
# THREADLINE_DATA_DIR (default threadline-data/killed-sync).
set -euo pipefail
cd "$(dirname "$0")/../.."
export THREADLINE_DATA_DIR="${THREADLINE_DATA_DIR:-threadline-data/killed-sync}"
exec "${THREADLINE_BIN:-target/release/threadline}" bench sync \
  --provider "${PROVIDER:-both}" \
  --messages "${MESSAGES:-10000}" \
  --quota "${QUOTA:-realistic}" \
  --latency realistic \
  --kill-every "${KILL_EVERY:-4-9}" \
  --max-seconds "${MAX_SECONDS:-3600}" \
  "$@"

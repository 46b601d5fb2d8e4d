"""Verify a delivery Threadline signed, with the `standardwebhooks` reference package.

Usage: verify.py SAMPLE.json, where the JSON has `secret`, `id`, `timestamp`, `signature` and
`body` (written by the web test `webhooks::test_events_arrive_signed...` when
THREADLINE_WEBHOOK_SAMPLE names the file). Exits non-zero unless the signature verifies and a
tampered body does not.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        sample = json.load(f)
    headers = {
        "webhook-id": sample["id"],
        "webhook-timestamp": sample["timestamp"],
        "webhook-signature": sample["signature"],
    }
    hook = Webhook(sample["secret"])
    payload = hook.verify(sample["body"], headers)
    print(f"verified {sample['id']}: type {payload.get('type')}")
    try:
        hook.verify(sample["body"] + " ", headers)
    except WebhookVerificationError:
        print("a tampered body is refused")
        return 0
    print("a tampered body verified: the check is broken", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""The text body CPython's `email` package reads from each message named on the command line.

Used by tests/engines/normalize_python.rs. For each file, one JSON line:
{"path": ..., "text": <str or null>} or {"path": ..., "error": <str>}.
Parsing: email.message_from_binary_file with policy=email.policy.default, then
get_body(preferencelist=('plain',)) (the text/plain part a reader would show; None when the
message has none) and its get_content() (decoded to str by the part's charset).
"""
import email
import email.policy
import json
import sys


def text_of(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    if body is None:
        return None
    try:
        return body.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError, ValueError):
        payload = body.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


for path in sys.argv[1:]:
    try:
        out = {"path": path, "text": text_of(path)}
    except Exception as e:  # a message Python itself cannot read: reported, not fatal
        out = {"path": path, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(out) + "\n")

"""Real-client check of the emulator's Google Workspace side, with Google's own libraries.

google-auth `service_account.Credentials` from the JSON key file the emulator issued (its
`token_uri` points at the emulator), `with_subject` for domain-wide delegation, and
google-api-python-client (bundled static discovery documents, `api_endpoint` = the emulator)
for Gmail `users.messages.list` and the Directory API `users.list(customer='my_customer')`.
Called by workspace_client.sh, which starts the emulator and seeds the domain.
"""
import json
import sys

import google.auth.exceptions
import google.auth.transport.requests
import google_auth_httplib2
import httplib2
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
DIRECTORY = "https://www.googleapis.com/auth/admin.directory.user.readonly"
MODIFY = "https://www.googleapis.com/auth/gmail.modify"


def fail(message):
    print(f"workspace_client: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def service(name, version, creds, base):
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=10))
    return build(name, version, http=http, static_discovery=True,
                 client_options={"api_endpoint": base + "/"})


def main():
    base, key_path = sys.argv[1:3]
    with open(key_path) as f:
        token_uri = json.load(f)["token_uri"]
    if token_uri != f"{base}/token":
        fail(f"token_uri {token_uri}")
    creds = service_account.Credentials.from_service_account_file(key_path, scopes=[GMAIL])

    ann = creds.with_subject("ann@example.test")
    gmail = service("gmail", "v1", ann, base)
    listed = gmail.users().messages().list(userId="me", maxResults=10).execute()
    ids = [m["id"] for m in listed.get("messages", [])]
    if len(ids) != 1:
        fail(f"ann's messages: {listed}")
    got = gmail.users().messages().get(userId="ann@example.test", id=ids[0], format="metadata",
                                       metadataHeaders=["Subject"]).execute()
    subject = [h["value"] for h in got["payload"]["headers"] if h["name"] == "Subject"]
    if subject != ["Workspace check"]:
        fail(f"subject {subject}")

    try:
        service("gmail", "v1", creds.with_subject("dee@example.test"), base).users().messages().list(userId="me").execute()
        fail("a user without Gmail was listed")
    except HttpError as e:
        if e.resp.status != 400 or "failedPrecondition" not in e.content.decode():
            fail(f"user without Gmail: {e.resp.status} {e.content!r}")

    for subject_user, scopes, expected in [
        ("ann@example.test", [GMAIL, MODIFY], "unauthorized_client"),
        ("cid@example.test", [GMAIL], "invalid_grant"),
        ("nobody@example.test", [GMAIL], "invalid_grant"),
    ]:
        denied = service_account.Credentials.from_service_account_file(key_path, scopes=scopes).with_subject(subject_user)
        try:
            denied.refresh(google.auth.transport.requests.Request())
            fail(f"{subject_user} {scopes} got a token")
        except google.auth.exceptions.RefreshError as e:
            if expected not in str(e):
                fail(f"{subject_user}: {e}")

    admin = service_account.Credentials.from_service_account_file(key_path, scopes=[DIRECTORY]).with_subject("admin@example.test")
    directory = service("admin", "directory_v1", admin, base)
    users, request = [], directory.users().list(customer="my_customer", maxResults=2, orderBy="email")
    pages = 0
    while request is not None:
        page = request.execute()
        pages += 1
        if page.get("kind") != "admin#directory#users":
            fail(f"kind {page.get('kind')}")
        users.extend(page.get("users", []))
        request = directory.users().list_next(request, page)
    emails = [u["primaryEmail"] for u in users]
    if emails != sorted(emails) or len(emails) != 5 or pages != 3:
        fail(f"directory pages {pages}: {emails}")
    by_email = {u["primaryEmail"]: u for u in users}
    if not by_email["cid@example.test"]["suspended"] or by_email["dee@example.test"]["isMailboxSetup"]:
        fail(f"suspended / isMailboxSetup: {by_email}")
    sales = directory.users().list(customer="my_customer", query="orgUnitPath='/Sales'").execute()
    if sorted(u["primaryEmail"] for u in sales.get("users", [])) != ["ann@example.test", "ben@example.test"]:
        fail(f"orgUnitPath query: {sales}")
    print(f"workspace_client: OK (google-auth {google.auth.__version__}, {len(emails)} directory users in {pages} pages)")


if __name__ == "__main__":
    main()

"""Google's official Python client against the Threadline emulator.

Gets a token through the real authorization-code + PKCE flow (consent page included), builds
the Gmail service from the bundled discovery document with the emulator as rootUrl, then:
lists every message (paging), gets one in full (and an attachment), runs a batch of gets,
modifies a message, pages through history one record at a time, and lets the client refresh
an expired access token on its own. Exits non-zero on any failure.

Usage: google_client.py EMULATOR_BASE_URL DISCOVERY_JSON_PATH
"""
import base64
import hashlib
import json
import re
import secrets
import sys
import urllib.parse
import urllib.request

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document

CLIENT_ID = "python-client.apps.googleusercontent.com"
CLIENT_SECRET = "python-secret"
REDIRECT = "http://127.0.0.1:9/callback"
SCOPES = ["openid", "email", "https://www.googleapis.com/auth/gmail.modify"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(req) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {message}")


def oauth(base, address):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({
        "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
        "scope": " ".join(SCOPES), "state": "py-state", "access_type": "offline",
        "code_challenge": challenge, "code_challenge_method": "S256", "login_hint": address,
    })
    status, _, page = call("GET", f"{base}/o/oauth2/v2/auth?{query}")
    check(status == 200, "consent page shown")
    request_id = re.search(rb'name="request" value="([^"]+)"', page).group(1).decode()
    form = [("request", request_id), ("mailbox", address), ("decision", "approve")] + [("scope", s) for s in re.findall(r'name="scope" value="([^"]+)"', page.decode())]
    status, headers, _ = call("POST", f"{base}/o/oauth2/v2/auth/decision", urllib.parse.urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    check(status == 302, "consent approved with a redirect")
    location = urllib.parse.urlparse(headers["Location"])
    params = dict(urllib.parse.parse_qsl(location.query))
    check(params.get("state") == "py-state" and "code" in params, "redirect carries code and state")
    body = urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": params["code"], "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT, "code_verifier": verifier,
    }).encode()
    status, _, raw = call("POST", f"{base}/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
    token = json.loads(raw)
    check(status == 200 and "refresh_token" in token, "code exchanged for tokens")
    return token


def main():
    base, discovery_path = sys.argv[1].rstrip("/"), sys.argv[2]
    _, _, raw = call("GET", f"{base}/_emulator/mailboxes")
    address = next(m["address"] for m in json.loads(raw) if m["provider"] == "google")
    token = oauth(base, address)

    doc = json.load(open(discovery_path))
    doc["rootUrl"] = base + "/"
    doc["mtlsRootUrl"] = base + "/"
    doc["baseUrl"] = base + "/" + doc.get("servicePath", "")
    creds = Credentials(token=token["access_token"], refresh_token=token["refresh_token"], token_uri=f"{base}/token",
                        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=SCOPES)
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http())
    gmail = build_from_document(doc, http=http)

    profile = gmail.users().getProfile(userId="me").execute()
    check(profile["emailAddress"] == address and isinstance(profile["historyId"], str), "getProfile")
    start_history = profile["historyId"]

    ids, request = [], gmail.users().messages().list(userId="me", maxResults=100)
    while request is not None:
        page = request.execute()
        ids += [m["id"] for m in page.get("messages", [])]
        request = gmail.users().messages().list_next(request, page)
    check(len(ids) > 100 and len(set(ids)) == len(ids), f"messages.list paged through {len(ids)} messages")

    with_attachment = None
    for message_id in ids[:60]:
        message = gmail.users().messages().get(userId="me", id=message_id, format="full").execute()
        check_parts = [message["payload"]]
        while check_parts:
            part = check_parts.pop()
            check_parts += part.get("parts", [])
            if "attachmentId" in part.get("body", {}):
                with_attachment = (message_id, part)
        if with_attachment:
            break
    check(message["id"] == ids[min(len(ids) - 1, ids.index(message["id"]))] and "payload" in message, "messages.get format=full")
    if with_attachment:
        message_id, part = with_attachment
        body = gmail.users().messages().attachments().get(userId="me", messageId=message_id, id=part["body"]["attachmentId"]).execute()
        check(len(base64.urlsafe_b64decode(body["data"])) == part["body"]["size"], "attachments.get size matches")

    results = {}
    batch = gmail.new_batch_http_request(callback=lambda rid, resp, exc: results.__setitem__(rid, (resp, exc)))
    for message_id in ids[:5]:
        batch.add(gmail.users().messages().get(userId="me", id=message_id, format="metadata", metadataHeaders=["Subject"]), request_id=message_id)
    batch.add(gmail.users().messages().get(userId="me", id="0123456789abcdef"), request_id="missing")
    batch.execute()
    check(all(results[i][1] is None and results[i][0]["id"] == i for i in ids[:5]), "batch of gets")
    check(results["missing"][1] is not None and results["missing"][1].resp.status == 404, "batch part 404 fails alone")

    for message_id in ids[:3]:
        gmail.users().messages().modify(userId="me", id=message_id, body={"addLabelIds": ["STARRED"], "removeLabelIds": ["UNREAD"]}).execute()
    gmail.users().messages().trash(userId="me", id=ids[3]).execute()

    call("POST", f"{base}/_emulator/mailboxes/{address}/expire-access-tokens")
    records, request = [], gmail.users().history().list(userId="me", startHistoryId=start_history, maxResults=1)
    while request is not None:
        page = request.execute()
        records += page.get("history", [])
        request = gmail.users().history().list_next(request, page)
    check(len(records) == 4, f"history.list paged record by record ({len(records)} records) after an automatic token refresh")
    check(any("labelsAdded" in r and "TRASH" in r["labelsAdded"][0]["labelIds"] for r in records), "trash appears as labelsAdded TRASH")

    call("POST", f"{base}/_emulator/mailboxes/{address}/expire-cursors")
    try:
        gmail.users().history().list(userId="me", startHistoryId=start_history).execute()
        check(False, "expired history id must fail")
    except Exception as e:  # googleapiclient.errors.HttpError
        check(getattr(e, "resp", None) is not None and e.resp.status == 404, "expired startHistoryId gives 404")
    print("google python client: all checks passed")


if __name__ == "__main__":
    main()

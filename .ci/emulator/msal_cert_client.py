"""Real-client check of organization-wide Microsoft 365 access with MSAL for Python.

`ConfidentialClientApplication` with a certificate credential: MSAL builds and signs the client
assertion (RS256, `x5t` = the SHA-1 thumbprint, `aud` = the token endpoint it discovered) from
the private key and thumbprint the emulator's control plane issued for the app registration.
The app-only token then reads the directory and mailboxes with plain HTTP requests.

As in msal_client.py, MSAL insists on an https authority, so this check plays a TLS-terminating
proxy: requests to https://127.0.0.1:PORT go to http://127.0.0.1:PORT with
`X-Forwarded-Proto: https`, and the emulator advertises https endpoints (the assertion's `aud`
is therefore the https token endpoint, which the emulator accepts for its own host and port).
Called by msal_cert_client.sh, which starts the emulator and seeds the tenant.
"""
import json
import sys

import msal
import requests

DOMAIN = "contoso.test"


class PlainHttpLoopback(requests.Session):
    def __init__(self, https_origin, http_origin):
        super().__init__()
        self.https_origin = https_origin
        self.http_origin = http_origin

    def request(self, method, url, *args, **kwargs):
        if url.startswith(self.https_origin):
            url = self.http_origin + url[len(self.https_origin):]
            headers = dict(kwargs.pop("headers", None) or {})
            headers["X-Forwarded-Proto"] = "https"
            kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)


def fail(message):
    print(f"msal_cert_client: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    base, tenant, client_id, cert_path = sys.argv[1:5]
    cert = json.load(open(cert_path))
    host = base.split("://", 1)[1]
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential={"private_key": cert["private_key_pem"], "thumbprint": cert["thumbprint"]},
        authority=f"https://{host}/{tenant}",
        instance_discovery=False,
        validate_authority=False,
        http_client=PlainHttpLoopback(f"https://{host}", base),
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    if "access_token" not in result:
        fail(f"no access token: {json.dumps(result)}")
    auth = {"Authorization": f"Bearer {result['access_token']}"}

    def get(path, params=None, headers=None):
        return requests.get(f"{base}/v1.0{path}", params=params, headers={**auth, **(headers or {})}, timeout=10)

    users, url, params = [], "/users", {"$select": "id,userPrincipalName,mail,accountEnabled,department", "$top": "2"}
    while url:
        page = get(url, params)
        if page.status_code != 200:
            fail(f"/users: {page.status_code} {page.text}")
        body = page.json()
        users.extend(body["value"])
        url, params = (body["@odata.nextLink"][len(base) + len("/v1.0"):], None) if "@odata.nextLink" in body else (None, None)
    if len(users) != 4:
        fail(f"/users paging: {users}")
    sales = get("/users", {"$filter": "department eq 'Sales'", "$count": "true"}, {"ConsistencyLevel": "eventual"}).json()
    if sales.get("@odata.count") != 2:
        fail(f"$filter department with $count: {sales}")
    groups = get("/groups").json()["value"]
    members = get(f"/groups/{groups[0]['id']}/members/microsoft.graph.user", {"$select": "id,userPrincipalName"}).json()["value"]
    if sorted(m["userPrincipalName"] for m in members) != [f"ada@{DOMAIN}", f"bob@{DOMAIN}"]:
        fail(f"group members: {members}")

    for who in ("ada", "support"):
        page = get(f"/users/{who}@{DOMAIN}/messages", {"$select": "subject"})
        if page.status_code != 200 or f"MSAL certificate check {who}" not in [m["subject"] for m in page.json()["value"]]:
            fail(f"{who}'s messages: {page.status_code} {page.text}")
    outside = get(f"/users/bob@{DOMAIN}/messages")
    if outside.status_code != 403 or outside.json()["error"]["code"] != "ErrorAccessDenied":
        fail(f"outside the RBAC scope: {outside.status_code} {outside.text}")
    nomail = get(f"/users/cara@{DOMAIN}/messages")
    if nomail.status_code != 404 or nomail.json()["error"]["code"] != "MailboxNotEnabledForRESTAPI":
        fail(f"user without a mailbox: {nomail.status_code} {nomail.text}")
    print(f"msal_cert_client: OK (msal {msal.__version__}, certificate {cert['thumbprint'][:8]}..., {len(users)} users)")


if __name__ == "__main__":
    main()

"""Real-client check of the emulator's Microsoft side with MSAL for Python.

Gets an app-only token (client credentials) from the emulator's authority and reads
GET /v1.0/users/{upn}/messages with it. Called by msal_client.sh, which starts the emulator.

MSAL insists on https for the authority and for the token endpoint it discovers ("should
consist of an https url"). The emulator speaks plain http, so this check plays a TLS-terminating
proxy: MSAL gets the authority https://127.0.0.1:PORT/{tenant} (instance discovery and authority
validation off) and an http_client (a requests.Session) that sends https://127.0.0.1:PORT/...
to http://127.0.0.1:PORT/... with `X-Forwarded-Proto: https`, so the emulator's OpenID
configuration advertises https endpoints. Everything else (OIDC discovery, the token request
and its parsing, the token cache) is MSAL's own code path.
"""
import json
import sys

import msal
import requests


class PlainHttpLoopback(requests.Session):
    """Rewrite the emulator's https origin to its real http origin."""

    def __init__(self, https_origin, http_origin):
        super().__init__()
        self.https_origin = https_origin
        self.http_origin = http_origin
        self.seen = []

    def request(self, method, url, *args, **kwargs):
        if url.startswith(self.https_origin):
            url = self.http_origin + url[len(self.https_origin):]
            headers = dict(kwargs.pop("headers", None) or {})
            headers["X-Forwarded-Proto"] = "https"
            kwargs["headers"] = headers
        self.seen.append((method, url))
        return super().request(method, url, *args, **kwargs)


def fail(message):
    print(f"msal_client: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    base, tenant, upn, subject = sys.argv[1:5]
    host = base.split("://", 1)[1]
    session = PlainHttpLoopback(f"https://{host}", base)
    app = msal.ConfidentialClientApplication(
        "msal-ci-client",
        client_credential="msal-ci-secret",
        authority=f"https://{host}/{tenant}",
        instance_discovery=False,
        validate_authority=False,
        http_client=session,
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    if "access_token" not in result:
        fail(f"no access token: {json.dumps(result)}")
    if result.get("token_type", "").lower() != "bearer":
        fail(f"token_type: {result.get('token_type')}")
    if not any(url.endswith(f"/{tenant}/v2.0/.well-known/openid-configuration") for _, url in session.seen):
        fail(f"MSAL did not use OIDC discovery: {session.seen}")
    # A second call is served from MSAL's token cache (the emulator's expires_in was parsed).
    again = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    if again.get("access_token") != result["access_token"]:
        fail("the second acquire_token_for_client did not come from the cache")
    response = requests.get(
        f"{base}/v1.0/users/{upn}/messages",
        params={"$select": "subject,receivedDateTime,from", "$top": "5"},
        headers={"Authorization": f"Bearer {result['access_token']}"},
        timeout=10,
    )
    if response.status_code != 200:
        fail(f"GET messages: {response.status_code} {response.text}")
    page = response.json()
    subjects = [m.get("subject") for m in page.get("value", [])]
    if subject not in subjects:
        fail(f"seeded message not found: {subjects}")
    bad = requests.get(f"{base}/v1.0/me", headers={"Authorization": f"Bearer {result['access_token']}"}, timeout=10)
    if bad.status_code != 400:
        fail(f"/me with an app-only token should be 400, got {bad.status_code}")
    print(f"msal_client: OK (msal {msal.__version__}, {len(subjects)} message(s), token via {tenant})")


if __name__ == "__main__":
    main()

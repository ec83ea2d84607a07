"""
A tool written with Debian's python3-authlib (1.2), as a third party would write it against the
generator: configured from its RFC 8414 metadata, an authorization code with PKCE S256 through its own
loopback listener (RFC 8252), refresh with rotation, the device flow (RFC 8628, by Authlib's generic
grant: 1.2 has no device client), revocation (RFC 7009), and what such tools send that ours do not.

It talks to the test by lines of JSON: {"open": url} asks for the browser step, {"device": code}
for the device's approval, each answered by a line on stdin; {"result": ...} is its last line.
"""
import json
import os
import queue
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

# The generator runs on http://127.0.0.1 in the test, as `npm start` does on a developer's machine.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

import requests  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session, OAuthError  # noqa: E402

BASE = os.environ["GENERATOR_URL"]
SCOPE = os.environ["SCOPE"]
TARGET = os.environ["TARGET"]
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

callbacks = queue.Queue()


class Loopback(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        self.wfile.write(b"back in the tool")
        # Only the redirect: the browser asks for /favicon.ico too.
        if self.path.startswith("/callback?"):
            callbacks.put(f"http://127.0.0.1:{self.server.server_port}{self.path}")

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Loopback)
threading.Thread(target=server.serve_forever, daemon=True).start()
REDIRECT = f"http://127.0.0.1:{server.server_port}/callback"


def ask(event):
    """One line to the test, and its one-line answer."""
    print(json.dumps(event), flush=True)
    return sys.stdin.readline().strip()


def error_of(call):
    """The OAuth error a call ends in, or None when it succeeds."""
    try:
        call()
        return None
    except OAuthError as err:
        return err.error


def raw(url, **kwargs):
    res = requests.post(url, **kwargs)
    try:
        body = res.json()
    except ValueError:
        body = res.text
    return {"status": res.status_code, "type": res.headers.get("content-type"), "body": body}


metadata = requests.get(f"{BASE}/.well-known/oauth-authorization-server").json()
TOKEN = metadata["token_endpoint"]
result = {"metadata": metadata}


def session(**kwargs):
    return OAuth2Session(
        client_id="Authlib tool",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        **kwargs,
    )


def authorize(client, verifier, state, decision="Allow"):
    """The browser step: the URL opened, the callback awaited, the code redeemed by Authlib."""
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, state=state)
    ask({"open": url, "decision": decision})
    callback = callbacks.get(timeout=30)
    return client.fetch_token(TOKEN, authorization_response=callback, code_verifier=verifier)


def step(name, run):
    """Each step on its own: one that fails is reported as such, and the next still runs."""
    try:
        result[name] = run()
    except Exception as err:  # noqa: BLE001
        result[name] = {"failed": f"{type(err).__name__}: {err}"}


def public_client():
    """Auth method none, the scope with the extras tools add by habit, the shortest verifier RFC 7636 allows, a one-letter state,
    and the OpenID Connect parameters prompt and nonce, which the generator does not use."""
    # Authlib adds prompt and nonce to the authorization URL when configured so, as OpenID Connect clients are.
    tool = session(scope=f"openid offline_access {SCOPE}", token_endpoint_auth_method="none", prompt="consent", nonce="n-0S6")
    first = authorize(tool, "a" * 43, "s")
    refreshed = tool.refresh_token(TOKEN)
    return {
        "access_token": first["access_token"],
        "token_type": first["token_type"],
        "refreshed": refreshed["access_token"],
        "rotated": refreshed["refresh_token"] != first["refresh_token"],
        # The old token again is a copy: refused, and it ends the tool's session, so the new one goes too.
        "old_again": error_of(lambda: tool.refresh_token(TOKEN, refresh_token=first["refresh_token"])),
        "new_after": error_of(lambda: tool.refresh_token(TOKEN, refresh_token=refreshed["refresh_token"])),
    }


def basic_client():
    """client_secret_basic with an empty secret, the longest verifier, a 512-character state of +/= and more, the scope as the
    target; then revocation."""
    basic = session(
        client_secret="",
        token_endpoint_auth_method="client_secret_basic",
        revocation_endpoint_auth_method="client_secret_basic",
        scope=TARGET,
    )
    first = authorize(basic, "~" * 128, ("a+/= é" * 100)[:512])
    again = basic.refresh_token(TOKEN)
    revoked = basic.revoke_token(metadata["revocation_endpoint"], token=again["refresh_token"], token_type_hint="refresh_token")
    return {
        "access_token": first["access_token"],
        "refreshed": again["access_token"],
        "revoke_status": revoked.status_code,
        "after_revoke": error_of(lambda: basic.refresh_token(TOKEN, refresh_token=again["refresh_token"])),
        "revoke_access_token": raw(metadata["revocation_endpoint"], data={"token": again["access_token"], "client_id": "Authlib tool"}),
    }


def device_flow():
    """Started and polled as client_secret_basic without a secret (Authlib sends "Authlib tool:None"): the client_id is in
    the header only (RFC 8628 §3.1, §3.4)."""
    tool = session(client_secret=None, token_endpoint_auth_method="client_secret_basic", scope=SCOPE)
    started = tool.post(
        metadata["device_authorization_endpoint"],
        data={"scope": SCOPE},
        auth=tool.client_auth(tool.token_endpoint_auth_method),
        withhold_token=True,
    )
    if not started.ok:
        raise RuntimeError(f"device authorization refused: {started.status_code} {started.text}")
    started = started.json()
    poll = lambda: tool.fetch_token(TOKEN, grant_type=DEVICE_GRANT, device_code=started["device_code"])  # noqa: E731
    pending = error_of(poll)
    ask({"device": started["user_code"]})
    polled = poll()
    return {"pending": pending, "access_token": polled["access_token"], "refresh_token": bool(polled.get("refresh_token"))}


def denied():
    """The employee presses Deny: the callback has no code, which Authlib 1.2 does not look for, and sends on as a token request."""
    tool = session(scope=SCOPE, token_endpoint_auth_method="none")
    try:
        answer = authorize(tool, "d" * 43, "denied", decision="Deny")
        return {"token": answer["access_token"]}
    except OAuthError as err:
        return {"error": err.error, "description": err.description}


def client_credentials():
    """With a secret the tool insists on sending (HTTP Basic), and the scope padded with spaces."""
    app = session(client_secret="some secret", scope=f"  {SCOPE}  ")
    return app.fetch_token(TOKEN, grant_type="client_credentials")["access_token"]


step("code", public_client)
step("basic", basic_client)
step("device", device_flow)
step("denied", denied)
step("client_credentials", client_credentials)
# As some clients do (requests' json=): the token endpoint takes a form only.
result["json_body"] = raw(TOKEN, json={"grant_type": "client_credentials", "scope": SCOPE})

print(json.dumps({"result": result}), flush=True)

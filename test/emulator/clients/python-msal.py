"""
Debian's python3-msal against the emulator over HTTPS, configured as the README tells: authority
validation and instance discovery off, the emulator's CA in REQUESTS_CA_BUNDLE. Client credentials
with a secret and with a certificate (SHA-1 thumbprint, with and without x5c), and on-behalf-of.
Prints each token (or the error MSAL got) and the header of each client assertion sent, as JSON;
the test verifies the tokens.
"""
import base64
import json
import os
import sys

from msal_env import env, msal, requests


def header_of(jwt):
    # MSAL hands the assertion over as bytes.
    part = (jwt.decode() if isinstance(jwt, bytes) else jwt).split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class NotingSession(requests.Session):
    """requests, noting the header of each client assertion on its way out."""

    def __init__(self):
        super().__init__()
        self.headers_sent = []

    def post(self, url, data=None, **kwargs):
        if isinstance(data, dict) and data.get("client_assertion"):
            self.headers_sent.append(header_of(data["client_assertion"]))
        return super().post(url, data=data, **kwargs)


# The tenant as the authority names it: its id, or one of its domains (AUTHORITY_TENANT).
authority = f"{env('EMULATOR_BASE_URL')}/{os.environ.get('AUTHORITY_TENANT') or env('EMULATOR_TENANT')}"
scopes = [env("SCOPE")]


def app(credential):
    session = NotingSession()
    client = msal.ConfidentialClientApplication(
        env("CLIENT_ID"),
        client_credential=credential,
        authority=authority,
        validate_authority=False,
        instance_discovery=False,
        http_client=session,
    )
    return client, session


def answer(result, session):
    if "access_token" not in result:
        return {"error": result.get("error"), "error_codes": result.get("error_codes"), "headers": session.headers_sent}
    return {"token": result["access_token"], "headers": session.headers_sent}


def client_credentials(credential):
    client, session = app(credential)
    return answer(client.acquire_token_for_client(scopes=scopes), session)


certificate = {"private_key": env("CLIENT_KEY_PEM"), "thumbprint": env("CLIENT_SHA1")}
flow = env("FLOW")
if flow == "client-credentials":
    result = {
        "secret": client_credentials(env("CLIENT_SECRET")),
        "certificate": client_credentials(certificate),
        "chain": client_credentials({**certificate, "public_certificate": env("CLIENT_CERTIFICATE_PEM")}),
    }
elif flow == "on-behalf-of":
    result = {}
    for name, credential in (("secret", env("CLIENT_SECRET")), ("certificate", certificate)):
        client, session = app(credential)
        result[name] = answer(client.acquire_token_on_behalf_of(env("USER_TOKEN"), scopes), session)
else:
    sys.exit(f"FLOW: {flow} is not a flow of this script")
print(json.dumps(result))

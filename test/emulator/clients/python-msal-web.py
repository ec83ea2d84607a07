"""
A Python web app with Debian's python3-msal against the emulator over HTTPS (authority validation and instance
discovery off, the emulator's CA in REQUESTS_CA_BUNDLE): initiate_auth_code_flow and acquire_token_by_auth_code_flow,
with max_age when MAX_AGE is set, the employee's part done on the emulator's sign-in page as a browser without script
would; then the token cache serialized, read by a new application (as after a restart of the app), and the tokens
renewed silently through its refresh token. Prints the ID token's claims, or the error, and whether the renewal worked.
With CONSENT (scopes of other resources, comma-separated), the sign-in asks for consent to those too: redeemed as it is,
the code is refused (its error codes printed); redeemed with the scopes of the one resource, as MSAL says to, it gives
that resource's token (its audience printed).
"""
import base64
import html
import json
import os
import re
import sys
from urllib.parse import parse_qsl, urlparse

from msal_env import env, msal, requests


base_url = env("EMULATOR_BASE_URL")
authority = f"{base_url}/{env('EMULATOR_TENANT')}"
scopes = [env("SCOPE")]


def application(cache):
    return msal.ConfidentialClientApplication(
        env("CLIENT_ID"),
        client_credential=env("CLIENT_SECRET"),
        authority=authority,
        validate_authority=False,
        instance_discovery=False,
        token_cache=cache,
    )


def sign_in(auth_uri):
    """The employee's part: the sign-in page's form posted with the employee; the redirect's query, as the app gets it."""
    browser = requests.Session()
    page = browser.get(auth_uri).text
    form = {name: html.unescape(value) for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}
    form.update(navIdent="Z990301", name="Py Web", email="py.web@trygdeetaten.no", groups="")
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)">', page).group(1))
    answer = browser.post(base_url + action, data=form, allow_redirects=False, headers={"origin": base_url})
    return dict(parse_qsl(urlparse(answer.headers["location"]).query))


cache = msal.SerializableTokenCache()
app = application(cache)
max_age = {"max_age": int(os.environ["MAX_AGE"])} if os.environ.get("MAX_AGE") else {}
consent = os.environ["CONSENT"].split(",") if os.environ.get("CONSENT") else []
refused = None
if consent:
    flow = app.initiate_auth_code_flow(scopes + consent, redirect_uri=env("REDIRECT_URI"))
    refused = app.acquire_token_by_auth_code_flow(flow, sign_in(flow["auth_uri"])).get("error_codes")
flow = app.initiate_auth_code_flow(scopes + consent, redirect_uri=env("REDIRECT_URI"), **max_age)
try:
    result = app.acquire_token_by_auth_code_flow(flow, sign_in(flow["auth_uri"]), **({"scopes": scopes} if consent else {}))
except RuntimeError as err:
    print(json.dumps({"error": str(err)[:300]}))
    sys.exit(0)
if "access_token" not in result:
    print(json.dumps({"error": result.get("error"), "error_codes": result.get("error_codes")}))
    sys.exit(0)

restarted = msal.SerializableTokenCache()
restarted.deserialize(cache.serialize())
again = application(restarted)
accounts = again.get_accounts()
renewed = again.acquire_token_silent_with_error(scopes, account=accounts[0], force_refresh=True) if accounts else None
print(
    json.dumps(
        {
            "idTokenClaims": result["id_token_claims"],
            "accounts": [account["username"] for account in accounts],
            "renewed": bool(renewed and "access_token" in renewed),
            "audience": json.loads(base64.urlsafe_b64decode(result["access_token"].split(".")[1] + "=="))["aud"],
            "refused": refused,
        }
    )
)

"""
What the python3-msal scripts beside this one share: MSAL and requests, or the line that says how to install them, and
their settings from the environment.
"""
import os
import sys

try:
    import msal
    import requests
except ImportError as missing:
    sys.exit(f"python3-msal is not installed ({missing}): apt-get install python3-msal")


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set")
    return value

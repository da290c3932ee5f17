"""A session's device in words, for the Sessions page and `sigillo sessions` (issue 20).

Small on purpose: a few substring checks on a bounded prefix of the User-Agent header, no
regular expression, so no header can make it slow. It names a browser and a system when it
recognises them ("Firefox on Linux"), the CLI's own sessions "sigillo CLI", and says
"Unknown device" otherwise. A header is what the client says, not proof of anything.
"""

from __future__ import annotations

__all__ = ["CLI_LABEL", "UNKNOWN", "describe"]

CLI_LABEL = "sigillo CLI"
UNKNOWN = "Unknown device"
_SCAN = 512  # the stored User-Agent is at most this long already

# Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
_BROWSERS = (
    ("edg/", "Edge"),
    ("opr/", "Opera"),
    ("firefox/", "Firefox"),
    ("chromium/", "Chromium"),
    ("chrome/", "Chrome"),
    ("safari/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("android", "Android"),
    ("iphone", "iOS"),
    ("ipad", "iPadOS"),
    ("windows", "Windows"),
    ("mac os x", "macOS"),
    ("macintosh", "macOS"),
    ("cros", "ChromeOS"),
    ("linux", "Linux"),
)


def describe(user_agent: str, client_name: str = "") -> str:
    """`Firefox on Linux`, `sigillo CLI`, `Chrome`, or `Unknown device`."""
    agent = user_agent[:_SCAN].lower()
    if client_name or agent.startswith(("sigillo-cli/", "sigillo/")):
        return CLI_LABEL
    browser = next((name for key, name in _BROWSERS if key in agent), "")
    system = next((name for key, name in _SYSTEMS if key in agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN

"""`sigillo login`, `logout` and `me` (behaviour.md 11.1-11.3, 17.4, [D7]).

`login` saves a token given by `--token` or `SIGILLO_TOKEN` as it is (CI, API tokens);
otherwise it always runs the device flow (RFC 8628), even when a token is already saved,
so that signing in again really signs in again. `logout` forgets a scope's record and
ends its session on the server. `me` shows who the token belongs to and what the current
directory resolves to.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sigillo.cli.client import Client, Response, checked_token, path
from sigillo.cli.config import Scope, Source, child_scopes, normalise_scope
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import Output, printable

__all__ = ["SESSION_ONLY", "login", "logout", "me", "session_failure"]

CLIENT_ID = "sigillo-cli"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5.0
SLOW_DOWN_STEP = 5.0
MAX_POLLS = 120
LOGOUT_TIMEOUT = 5.0
SESSION_ONLY = "API tokens only work for secrets commands; sign in with sigillo login"
# What a verification URL may contain before it is handed to a browser opener: `cmd /C
# start` would run anything after `&` or `|`, and a server must not choose what runs here.
_URL_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$'()*+,;="
)
if TYPE_CHECKING:
    import subprocess

_browsers: list[subprocess.Popen[bytes]] = []  # openers, kept referenced until the CLI exits


# --- login ------------------------------------------------------------------------------


def login(ctx: Context) -> int:
    scope = normalise_scope(ctx.args.scope, ctx.cwd)
    api_url = ctx.resolved.api_url
    given = ctx.args.token or ctx.env.get("SIGILLO_TOKEN")  # 17.4: both count as given
    if given:
        _save(ctx, scope, _checked(given), api_url)
        ctx.out.success("Saved bearer token")
        ctx.out.line(ctx.out.style("Use this for CI or API-token-based secret access.", "dim"))
        return 0
    client = Client(api_url, None)  # the device flow needs no credential: never send one
    try:
        token = _device_flow(ctx, client)
    finally:
        client.close()
    _save(ctx, scope, token, api_url)
    ctx.out.line()
    ctx.out.success("Logged in successfully")
    return 0


def _checked(token: str) -> str:
    """The token as it will be sent (client.checked_token); an empty one is refused."""
    checked = checked_token(token)
    if not checked:
        raise CliError("the token is empty")
    return checked


def _save(ctx: Context, scope: str, token: str, api_url: str) -> None:
    ctx.config.update(scope, token=token, api_url=api_url)
    try:
        ctx.config.save()
    except OSError as error:
        raise CliError(f"cannot write {ctx.config.path}: {error.strerror or error}") from None


def _device_flow(ctx: Context, client: Client) -> str:
    """Request a code, show it, open the browser, poll until the user decides."""
    codes = _request_codes(client)
    url = _first_text(codes, "verification_uri_complete", "verification_uri")
    _show(ctx.out, url, codes["user_code"])
    if not ctx.args.no_browser:
        _open_browser(url, ctx.env)
    try:
        return _poll(client, codes["device_code"], _interval(codes.get("interval")))
    except CliError:
        ctx.out.line()  # end the "Waiting for approval..." line before the error
        raise


def _request_codes(client: Client) -> dict[str, Any]:
    """The answer of POST /api/auth/device/code, checked to hold what the flow needs."""
    try:
        answer = client.request("POST", "/api/auth/device/code", {"client_id": CLIENT_ID})
    except CliError as failure:
        raise CliError(f"failed to request device code: {failure.message}", *failure.hint) from None
    if not answer.ok:
        message = printable(answer.message())
        raise CliError(f"device code request failed ({answer.status}): {message}")
    codes = answer.json()
    if not isinstance(codes, dict):
        codes = {}
    for key in ("device_code", "user_code"):
        if not _first_text(codes, key):
            raise CliError(f"device code response missing {key}")
    if not _first_text(codes, "verification_uri_complete", "verification_uri"):
        raise CliError("device code response missing verification URI")
    return codes


def _first_text(document: dict[str, Any], *keys: str) -> str:
    """The first of `keys` whose value is a non-empty string, else ""."""
    for key in keys:
        value = document.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _interval(value: object) -> float:
    """The server's polling interval in seconds; 5 when it gives none that makes sense."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 3600:
        return float(value)
    return DEFAULT_INTERVAL


def _show(out: Output, url: str, user_code: str) -> None:
    out.line()
    out.line(out.style("Open this URL in your browser:", "bold"))
    out.line(f"  {out.style(printable(url), 'cyan')}")
    out.line()
    out.line(f"{out.style('Code:', 'blue')} {out.style(printable(user_code), 'bold')}")
    out.line()
    out.line(out.style("Waiting for approval...", "dim"), end="")
    out.stdout.flush()


def _poll(client: Client, device_code: str, interval: float) -> str:
    """RFC 8628 3.4-3.5: wait, poll, and follow the answer; the session token at the end."""
    body = {"grant_type": GRANT_TYPE, "device_code": device_code, "client_id": CLIENT_ID}
    for _ in range(MAX_POLLS):
        time.sleep(interval)
        try:
            answer = client.request("POST", "/api/auth/device/token", body)
        except CliError:
            continue  # the network or the server hiccupped: the code is still good
        document = answer.json()
        if answer.ok and isinstance(document, dict):
            token = _first_text(document, "access_token")
            if token:
                return _checked(token)
            raise CliError("device token response missing access_token")
        error = document.get("error") if isinstance(document, dict) else None
        if not isinstance(error, str) or error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN_STEP
            continue
        if error == "expired_token":
            raise CliError("device code expired. Run login again.")
        if error == "access_denied":
            raise CliError("login was denied")
        raise CliError(printable(answer.message()))
    raise CliError("login timed out")


def _open_browser(url: str, env: Mapping[str, str]) -> None:
    """Start the platform's opener without waiting for it; any failure is ignored (the URL
    is on screen). Skipped where no browser can be shown: a Linux or BSD session without
    a display (SSH, containers), and URLs that are not plain http(s)."""
    if not url.startswith(("https://", "http://")) or not set(url) <= _URL_SAFE:
        return
    if sys.platform == "darwin":
        command = ["open", url]
    elif os.name == "nt":
        command = ["cmd", "/C", "start", "", url]
    elif env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        command = ["xdg-open", url]
    else:
        return
    import subprocess

    with contextlib.suppress(OSError, ValueError):
        _browsers.append(
            subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )


# --- logout -----------------------------------------------------------------------------


def logout(ctx: Context) -> int:
    scope = normalise_scope(ctx.args.scope, ctx.cwd)
    record = ctx.config.get(scope)
    ctx.config.remove(scope)
    try:
        ctx.config.save()  # rewritten even when the scope was absent (11.2)
    except OSError as error:
        raise CliError(f"cannot write {ctx.config.path}: {error.strerror or error}") from None
    if record is not None:
        # Issue 18: the offline copies made with the forgotten credential go with it, even
        # when another scope still holds it (that scope's next fetch keeps new ones).
        from sigillo.cli.fallback import forget_credential

        forget_credential(ctx.env, record.token)
        _end_session(ctx, record)
    ctx.out.success(f"Logged out from scope {ctx.out.style(printable(scope), 'bold')}")
    return 0


def _end_session(ctx: Context, record: Scope) -> None:
    """Sign the forgotten session out on the server, so a copy of the old config file (a
    backup, another user's read) is worth nothing. Best effort: logging out works offline.

    Skipped for API tokens (revoked with `sigillo tokens revoke`, not by one machine
    logging out) and for a token another scope still holds.
    """
    token = record.token
    if not token or token.startswith("sig_"):
        return
    if any(other.token == token for other in ctx.config.scopes.values()):
        return
    api_url = record.api_url or ctx.resolved.api_url
    try:
        client = Client(api_url, token, timeout=LOGOUT_TIMEOUT)
    except CliError:
        return
    try:
        answer = client.request("POST", "/api/auth/sign-out")
    except CliError as failure:
        ctx.out.note(f"note: the session was not ended on the server: {failure.message}", "dim")
        return
    finally:
        client.close()
    if not answer.ok and answer.status != 401:  # 401: it had already ended
        ctx.out.note(
            f"note: the session was not ended on the server ({answer.status}): "
            f"{printable(answer.message())}",
            "dim",
        )


# --- me ---------------------------------------------------------------------------------


def session_failure(ctx: Context, answer: Response, message: str) -> CliError:
    """The error for a session-only call that failed: with an API token (`sig_…`), the
    server's bare 401 says nothing useful, so say why instead (behaviour.md 16)."""
    token = ctx.resolved.token or ""
    if answer.status == 401 and token.startswith("sig_"):
        return CliError(SESSION_ONLY)
    if answer.status == 401:
        return CliError(message, "  sigillo login")
    return CliError(message)


def me(ctx: Context) -> int:
    client = ctx.signed_in()
    try:
        answer = client.get(path("me"))
    except CliError as failure:
        raise CliError(f"failed to fetch /api/v0/me: {failure.message}", *failure.hint) from None
    if not answer.ok:
        message = f"/api/v0/me failed ({answer.status}): {printable(answer.message())}"
        raise session_failure(ctx, answer, message)
    document = answer.json()
    if not isinstance(document, dict):
        raise CliError("/api/v0/me answered something that is not a JSON object")
    if ctx.args.json:
        ctx.out.json(document)
        return 0
    _identity(ctx.out, document)
    _setup(ctx)
    _subfolders(ctx)
    return 0


def _field(value: object) -> str:
    return printable(value) if isinstance(value, str) and value else "—"


def _identity(out: Output, document: dict[str, Any]) -> None:
    user = document.get("user")
    if not isinstance(user, dict):
        user = {}
    out.line(f"User:  {_field(user.get('name'))}")
    out.line(f"Email: {_field(user.get('email'))}")
    orgs = [org for org in document.get("orgs") or [] if isinstance(org, dict)]
    if not orgs:
        return
    rows = [(_field(o.get("name")), _field(o.get("id")), _field(o.get("role"))) for o in orgs]
    name_width = max(len(name) for name, _, _ in rows)
    id_width = max(len(id_) for _, id_, _ in rows)
    out.line()
    out.line(out.style("Organizations:", "bold"))
    for name, id_, role in rows:
        out.line(f"  {name.ljust(name_width)}  {id_.ljust(id_width)}  {role}")


def _setup(ctx: Context) -> None:
    resolved = ctx.resolved
    if not resolved.project and not resolved.environment:
        return
    out = ctx.out
    source = resolved.project_source or resolved.environment_source
    out.line()
    out.line(f"Setup:   {_where(source, ctx.cwd)}")
    if resolved.project and resolved.project_name:
        out.line(f"Project: {printable(resolved.project_name)} ({printable(resolved.project)})")
    else:
        out.line(f"Project: {_field(resolved.project)}")
    out.line(f"Env:     {_field(resolved.environment)}")


def _where(source: Source | None, cwd: str) -> str:
    """Where the setup of this directory comes from, in words a user can act on."""
    if source is None:
        return printable(cwd)
    if source.kind == "scope":
        return printable(source.name)
    if source.kind == "worktree":
        return f"{printable(source.name)} (main repository of this git worktree)"
    if source.kind == "env":
        return f"${source.name} (environment variable)"
    return f"{source.name} (command-line flag)"


def _subfolders(ctx: Context) -> None:
    children = child_scopes(ctx.config, ctx.cwd)
    if not children:
        return
    out = ctx.out
    out.line()
    out.line(out.style("Configured subfolders:", "bold"))
    for relative, scope in children:
        name = scope.project_name or scope.project or ""
        where = f"{name} ({scope.environment})" if scope.environment else name
        out.line(f"  {printable(relative)}  →  {printable(where)}")

"""`sigillo run`: the environment's secrets as the child's environment variables, its
output redacted (behaviour.md 12; docs/redaction.md is the contract).

Flow (12.2): check the command line and the mount options, resolve, fetch every value and
its kind in one `download?format=json-kinds` (the server records the read; a server from
before kinds answers 422, and then `format=json` is read and every value is a secret), choose
what to protect (D18: every secret of 4 bytes or more, see run/protected.py) and name the
secrets too short to protect, mount if asked, run the child under supervise.run_child,
remove the mount, exit with the child's status.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar, cast

from sigillo.cli.at import at_query, past_failure
from sigillo.cli.client import Response, Unreachable, path
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable

__all__ = ["run"]

T = TypeVar("T")
_SWITCH = 0.0002  # seconds: the GIL switch interval while the request is out
STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXAMPLES = ("  sigillo run -- env", "  sigillo run --command 'echo $MY_SECRET'")


def run(ctx: Context) -> int:
    if os.name != "posix":  # PTYs, process groups and POSIX signals (run/supervise.py)
        raise CliError("sigillo run needs Linux or macOS", "on Windows, run it under WSL")
    args = ctx.args
    argv = list(args.argv[1:] if args.argv[:1] == ["--"] else args.argv)
    if args.shell_command is not None and argv:
        raise CliError("use either --command or positional args, not both")
    if args.shell_command is None and not argv:
        raise CliError("command is required", *EXAMPLES)
    if args.mount:
        from sigillo.cli.run import mounts

        mounts.check_format(args.mount_format)
        mounts.check_mode(args.mount_mode)
    both = [name for name in dict.fromkeys(args.show) if name in args.redact]
    if both:
        raise CliError(f"cannot both show and redact {', '.join(map(printable, both))}")
    watching = args.watch or args.watch_signal is not None
    if watching:  # `run --watch`: run/watch.py (issue 18)
        from sigillo.cli.run import watch

        watch_signal = watch.check_options(args)
    environment = ctx.environment()
    token = watch.first_token(ctx, environment) if watching else None  # before the fetch
    # While the server answers, the modules the rest needs load (bench/run_bench.py times
    # start-up). The child starts only once the secrets are here and the redactor is built.
    # The imports hold the GIL: a short switch interval hands it to the request's thread
    # as soon as an answer arrives, instead of up to 5 ms later at every read.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(_SWITCH)
    try:
        fetching = _Started(_fetch, ctx, environment)
        if not args.disable_redaction:
            import sigillo.cli.run.redaction  # noqa: F401
        from sigillo.cli.run.supervise import run_child, shell_command

        fetched = fetching.result()
    finally:
        sys.setswitchinterval(interval)
    redactors, short = (None, []) if args.disable_redaction else _redactors(ctx, fetched)
    if args.shell_command is not None:
        argv = shell_command(args.shell_command, ctx.env)
    child_env = {**_without_credentials(ctx), **fetched.secrets, "SIGILLO": "1"}
    body = mount_body(ctx, fetched) if args.mount else b""
    ctx.client.close()  # nothing more to ask the server while the child runs
    mount = None
    # From the mount's creation until run_child takes the signals over, SIGINT, SIGTERM
    # and SIGHUP unwind through `finally`, so that no mount outlives a stopped sigillo.
    previous = {number: signal.signal(number, _stop) for number in STOPPING}
    try:
        if args.mount:
            from sigillo.cli.run import mount_registry, mounts

            mount_registry.sweep_stale(ctx.env)
            mount = mounts.Mount.create(args.mount, body, args.mount_mode, ctx.env)
        if short:
            ctx.out.note(_short_note(short), "dim")
        if watching:
            return watch.run_watching(
                ctx, environment, argv, child_env, redactors, fetched, mount, token, watch_signal
            )
        return run_child(argv, child_env, redactors)
    except _Stopped as stopped:
        return 128 + stopped.signal
    finally:
        if mount is not None:
            mount.close()
        for number, handler in previous.items():
            signal.signal(number, handler)


class _Started(Generic[T]):
    """`function(*args)` running in a thread of its own; `result()` waits for it and
    returns its value or raises its exception, in the caller's thread."""

    def __init__(self, function: Callable[..., T], *args: Any) -> None:
        self._function, self._args = function, args
        self._outcome: tuple[T | None, BaseException | None] = (None, None)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = (self._function(*self._args), None)
        except BaseException as error:  # given to the caller by result()
            self._outcome = (None, error)

    def result(self) -> T:
        self._thread.join()
        value, error = self._outcome
        if error is not None:
            raise error
        return cast(T, value)


class _Stopped(Exception):
    def __init__(self, number: int) -> None:
        self.signal = number


def _stop(number: int, _frame: object) -> None:
    raise _Stopped(number)


def _download(
    ctx: Context, environment: str, format: str, action: str, *, older: int | None = None
) -> Response:
    """The environment's download in `format`; an answer of status `older` (a server that
    does not know the format) is returned as it is, for the caller to fall back. An
    unreachable server is stood in for by the offline copy (cli/fallback.py), when kept."""
    from sigillo.cli.fallback import Copies

    project = ctx.resolved.project or ""
    target = path("projects", project, "environments", environment, "secrets", "download")
    # --at: the secrets as they were then; recorded as a `run` read (a server from before
    # `purpose` ignores it and records a download)
    query = {"format": format, "purpose": "run", **at_query(ctx)}
    copies = Copies.of(ctx, environment, "running from")
    try:
        response = ctx.client.get(target, query=query, accept="*/*")
    except Unreachable as unreachable:
        if copies is None:
            raise
        return copies.use(format, unreachable)
    if copies is not None and response.status != older:
        copies.answered(format, response)
    if failure := past_failure(ctx, response, action):
        raise failure
    if response.status == 404:
        raise ctx.environment_not_found(environment)
    if not response.ok and response.status != older:
        raise response.failure(action)
    return response


class Fetched(NamedTuple):
    """What `sigillo run` reads: every value (name -> value, in the server's order), the
    names of kind plain, the secret values that values hold through references (issue 18:
    protected on their own too), and the `format=json` answer of a server from before
    kinds (None otherwise)."""

    secrets: dict[str, str]
    plain: set[str]
    parts: tuple[str, ...] = ()
    as_json: Response | None = None

    def __repr__(self) -> str:  # never a value
        return f"Fetched(names={list(self.secrets)!r}, plain={sorted(self.plain)!r})"


def _fetch(ctx: Context, environment: str) -> Fetched:
    """The environment's values and kinds in one read (recorded as `run`); a server from
    before kinds answers 422 to `json-kinds`, and then every value counts as a secret,
    failing closed."""
    fetched = _download(ctx, environment, "json-kinds", "fetch secrets", older=422)
    if fetched.status == 422:
        fetched = _download(ctx, environment, "json", "fetch secrets")
        return Fetched(_secrets_of(fetched), set(), (), fetched)
    document: Any = fetched.json()
    if not isinstance(document, dict):
        raise CliError("invalid secrets response")
    secrets: dict[str, str] = {}
    plain: set[str] = set()
    parts: list[str] = []
    for name, entry in document.items():
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, str):
            secrets[name] = value
            if entry.get("kind") == "plain":  # any other kind, or none, is a secret
                plain.add(name)
            held = entry.get("parts")
            parts += (
                [part for part in held if isinstance(part, str)] if isinstance(held, list) else []
            )
    return Fetched(secrets, plain, tuple(dict.fromkeys(parts)))


def mount_body(ctx: Context, fetched: Fetched) -> bytes:
    """The `--mount` file's bytes, rendered here from the values read (no second read, so
    the audit log shows one `run`): the same renderer as the server's download formats.
    A server from before kinds gave its own `json` answer: that, for a json mount."""
    from sigillo.domain.errors import FormatConflict
    from sigillo.domain.formats import render

    if ctx.args.mount_format == "json" and fetched.as_json is not None:
        return fetched.as_json.body
    try:
        return render(ctx.args.mount_format, list(fetched.secrets.items())).body
    except FormatConflict as conflict:  # dotnet-json: names that cannot nest
        raise CliError(f"cannot write the mount as {ctx.args.mount_format}: {conflict}") from None


def _secrets_of(response: Response) -> dict[str, str]:
    document: Any = response.json()
    if not isinstance(document, dict):
        raise CliError("invalid secrets response")
    return {name: value for name, value in document.items() if isinstance(value, str)}


def _redactors(ctx: Context, fetched: Fetched) -> tuple[Callable[[], Any] | None, list[str]]:
    """A factory of one redactor per stream, over every form of every protected value
    (None when nothing is protected: the streams are then inherited as they are), and the
    names of the secrets too short to protect (said on stderr, never their values)."""
    from sigillo.cli.run.redaction import Redactor

    forms, short = protected(ctx, fetched)
    if not forms:
        return None, short
    first = Redactor(forms)  # built once, before the child starts: a matcher error stops here
    return first.twin, short


def protected(ctx: Context, fetched: Fetched) -> tuple[list[bytes], list[str]]:
    """Every form to mask: of the protected values (D18, `--show`, `--redact`), of the
    secret values they hold through references, and of Sigillo's own credentials; and
    the names of the secrets too short to mask. `--redact`/`--show` naming no secret of
    the environment is an error."""
    from sigillo.cli.run.protected import all_forms, protect, protected_values

    args, secrets = ctx.args, fetched.secrets
    for option, names in (("--redact", args.redact), ("--show", args.show)):
        unknown = [name for name in dict.fromkeys(names) if name not in secrets]
        if unknown:
            raise CliError(
                f"{option} names no secret of this environment: "
                + ", ".join(map(printable, unknown))
            )
    forms, short = protect(
        secrets, plain=fetched.plain, show=args.show, redact=args.redact, redact_all=args.redact_all
    )
    held = all_forms(found for part in fetched.parts for found in protected_values(part))
    return _with_credentials([*forms, *held], ctx), short


CREDENTIALS = ("SIGILLO_TOKEN",)
"""Variables holding a credential Sigillo reads: never passed to the child (a token reads
every secret of its scope), unless `--keep-token`."""


def _without_credentials(ctx: Context) -> dict[str, str]:
    if ctx.args.keep_token:
        return dict(ctx.env)
    return {name: value for name, value in ctx.env.items() if name not in CREDENTIALS}


def _with_credentials(forms: list[bytes], ctx: Context) -> list[bytes]:
    """`forms` and every form of Sigillo's own credentials, longest first: the token in use
    (from the environment or the config file) and SIGILLO_TOKEN, whatever their kind, so a
    child that finds one (`--keep-token`, the config file) cannot print it."""
    from sigillo.cli.run.protected import all_forms

    own = {ctx.resolved.token or "", *(ctx.env.get(name, "") for name in CREDENTIALS)}
    extra = all_forms(sorted(token for token in own if len(token) >= 4))
    return sorted(dict.fromkeys([*forms, *extra]), key=len, reverse=True)


def _short_note(names: list[str]) -> str:
    """The start-up line naming the secrets too short to mask (never their values)."""
    listed = [printable(name) for name in names]
    return (
        f"note: not redacted (secrets shorter than 4 bytes): {', '.join(listed)} — make them"
        f" longer or mark them plain: sigillo secrets mark {' '.join(listed)} --plain"
    )

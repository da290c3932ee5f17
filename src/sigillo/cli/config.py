"""The CLI's configuration file and how token, server, project and environment are resolved.

behaviour.md 10.5 (the file) and 10.6 (resolution). The file is shared with the reference
CLI, so its location, schema, key order and formatting are kept exactly:

    {"scoped": {"<scope>": {"token", "api-url", "project", "project-name", "environment"}}}

A *scope* is a directory (or `/`); a record applies to that directory and everything below
it. Each field is resolved on its own from the longest matching scope that sets it, so a
token saved on `/` and a project saved on `/home/me/app` combine in `/home/me/app/src`.

What this module guarantees about the file, because it holds bearer tokens:

* it is created with mode 0600 (by `tempfile.mkstemp`, so it is never readable by others,
  not even between creation and the first write) in a directory created with mode 0700;
* it is replaced atomically (temporary file in the same directory, fsync, `os.replace`), so
  a crash or a full disk leaves the previous file intact, never a truncated one;
* reading never fails: a missing, unreadable, oversized (> 1 MiB), non-JSON or wrongly
  shaped file reads as empty, and the next save replaces it.

Only the standard library is imported, and nothing slow: every `sigillo` command, including
`sigillo run`, loads this module before doing anything else (`tempfile`, which pulls in
`shutil` and `random`, is imported only when the file is written; `typing` is loaded by
the CLI anyway).
"""

from __future__ import annotations

import contextlib
import enum
import json
import ntpath
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "DEFAULT_API_URL",
    "FIELDS",
    "MAX_CONFIG_BYTES",
    "Config",
    "ConfigError",
    "Resolved",
    "Scope",
    "Source",
    "child_scopes",
    "config_path",
    "fsync_directory",
    "normalise_scope",
    "resolve",
    "worktree_main_root",
]

DEFAULT_API_URL = "http://127.0.0.1:8080"
"""Where `sigillo server` listens by default (behaviour.md 17.5): the server of last resort."""

FIELDS = ("token", "api-url", "project", "project-name", "environment")
"""The keys of a scope record, in the order they are written (10.5)."""

MAX_CONFIG_BYTES = 1024 * 1024
"""Files larger than this are not read (10.5): a config file is a few hundred bytes."""

_WORKTREE_MARKERS = ("/.git/worktrees/", "\\.git\\worktrees\\")
_GITDIR_PREFIX = "gitdir: "
_GIT_FILE_LIMIT = 64 * 1024  # a `.git` file is one line; never read a huge one


class ConfigError(Exception):
    """The configuration file's location cannot be determined (no home directory at all)."""


class _Keep(enum.Enum):
    """Default of `Config.update`'s fields: leave the field as it is."""

    KEEP = 0


_KEEP = _Keep.KEEP


class Scope(NamedTuple):
    """One record of the file: the optional fields saved for one scope (None = not set).

    Immutable; `Config.update` makes a changed copy. `token` is a secret: the repr shows
    only whether it is set, so a record can be logged or shown in a traceback safely.
    """

    token: str | None = None
    api_url: str | None = None
    project: str | None = None
    project_name: str | None = None
    environment: str | None = None

    def __repr__(self) -> str:
        shown = [
            f"{name}={'<set>' if name == 'token' else repr(value)}"
            for name, value in zip(self._fields, self, strict=True)
            if value is not None
        ]
        return f"Scope({', '.join(shown)})"

    def get(self, field: str) -> str | None:
        """A field by its file key (`api-url`, `project-name`, ...)."""
        return self[FIELDS.index(field)]

    def to_json(self) -> dict[str, str]:
        """The record as written to the file: keys in the order of FIELDS, unset ones omitted."""
        return {key: value for key, value in zip(FIELDS, self, strict=True) if value}

    @classmethod
    def of(cls, **fields: str | None) -> Scope:
        """A record whose empty strings count as not set, as for the variables (10.6)."""
        return cls(**{name: value or None for name, value in fields.items()})

    @classmethod
    def from_json(cls, raw: object) -> Scope | None:
        """A record read from the file, or None when it is not an object.

        Unknown keys and non-string values are dropped rather than failing the whole file:
        a hand-edited record must not lock the user out of their other scopes.
        """
        if not isinstance(raw, dict):
            return None
        return cls.of(
            **{
                attr: value
                for attr, key in zip(cls._fields, FIELDS, strict=True)
                if isinstance(value := raw.get(key), str)
            }
        )


class Source(NamedTuple):
    """Where a resolved value came from, for messages such as `me`'s "Setup:" line.

    `kind` is one of:

    * `scope`: a scope of the file matching the current directory; `name` is the scope;
    * `worktree`: a scope matching the main repository of the git worktree the current
      directory is in (10.6 step 3); `name` is the scope;
    * `env`: an environment variable; `name` is its name (`SIGILLO_PROJECT`, ...);
    * `flag`: a command-line flag; `name` is its long spelling (`--project`, ...);
    * `default`: the built-in default API URL; `name` is empty.
    """

    kind: str
    name: str = ""

    @property
    def scope(self) -> str | None:
        """The config scope the value was saved on, or None when it came from elsewhere."""
        return self.name if self.kind in ("scope", "worktree") else None


class Resolved(NamedTuple):
    """The outcome of `resolve`: the values a command uses, and where each came from.

    `api_url` is always set (the default applies last). `project_name` is the name saved
    with the project, or None when none was saved or the project came from a variable or
    flag (a saved name would then describe another project).
    """

    token: str | None
    api_url: str
    project: str | None
    project_name: str | None
    environment: str | None
    token_source: Source | None
    api_url_source: Source
    project_source: Source | None
    environment_source: Source | None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'<set>' if name == 'token' and value else repr(value)}"
            for name, value in zip(self._fields, self, strict=True)
        )
        return f"Resolved({shown})"


# --- location ---------------------------------------------------------------------------


def config_path(env: Mapping[str, str], *, os_name: str | None = None) -> Path:
    """Where the file lives (10.5), from the environment rather than the process state.

    POSIX: `$HOME/.sigillo/config.json`, else `$USERPROFILE/.sigillo/config.json`, else the
    home directory of the user in the password database. Windows (`os_name == "nt"`):
    `%APPDATA%\\sigillo\\config.json`, else the same under `%LOCALAPPDATA%`, then under
    `%USERPROFILE%`. Empty variables count as unset. `os_name` defaults to `os.name`; tests
    pass `"nt"` to check the Windows rules on any system.

    Raises ConfigError when no home directory can be found at all.
    """
    if (os_name or os.name) == "nt":
        for name in ("APPDATA", "LOCALAPPDATA", "USERPROFILE"):
            if base := env.get(name):
                return Path(ntpath.join(base, "sigillo", "config.json"))
        raise ConfigError("cannot locate the config file: APPDATA and USERPROFILE are not set")
    home = env.get("HOME") or env.get("USERPROFILE")
    if not home:
        # Not os.path.expanduser: it would read $HOME from the real environment, not `env`.
        try:
            import pwd  # POSIX only, and rarely needed: not imported up front

            home = pwd.getpwuid(os.getuid()).pw_dir
        except (ImportError, KeyError, AttributeError):
            home = ""
    if not home:
        raise ConfigError("cannot locate the config file: HOME is not set")
    return Path(home, ".sigillo", "config.json")


# --- paths ------------------------------------------------------------------------------


def normalise_scope(scope: str, cwd: str) -> str:
    """The canonical form of a scope (10.5), for saving and for matching.

    `/` stays `/`; a relative scope (such as `.` or `app`) is joined to `cwd`; `.` and `..`
    are resolved lexically (symlinks are not followed: the user named this path); trailing
    separators are removed. `cwd` is the current directory, absolute.
    """
    if scope == "/":
        return "/"
    joined = os.path.normpath(os.path.join(cwd, scope))
    # POSIX keeps exactly two leading slashes (`//x`) as implementation-defined; for a
    # scope they mean nothing more than one.
    if os.sep == "/" and joined.startswith("//"):
        joined = "/" + joined.lstrip("/")
    return joined


def _matches(scope: str, directory: str) -> bool:
    """Whether `scope` (normalised) is `/`, `directory` itself, or one of its parents."""
    if scope in ("/", directory):
        return True
    prefix = scope if scope.endswith(os.sep) else scope + os.sep  # a drive root ends in `\`
    return directory.startswith(prefix)


def _scope_key(raw: str) -> str | None:
    """A scope as found in the file, normalised; None for a relative one (it means nothing)."""
    if raw == "/":
        return raw
    if not os.path.isabs(raw):
        return None
    return normalise_scope(raw, "/")


def worktree_main_root(cwd: str) -> str | None:
    """The main repository's root when `cwd` is inside a linked git worktree, else None.

    10.6 step 3: walk up to the first `.git`. A linked worktree has a `.git` *file* reading
    `gitdir: <main>/.git/worktrees/<name>` (relative paths are relative to the directory
    holding the file); the main root is the part before `/.git/`. An ordinary repository
    (a `.git` directory), a submodule (`gitdir: …/.git/modules/…`) or anything unreadable
    gives None. Only the file system is read; git itself is never run (it may be absent,
    and starting it would cost more than the whole command).
    """
    directory = normalise_scope(cwd, "/")
    while True:
        dot_git = os.path.join(directory, ".git")
        if os.path.lexists(dot_git):
            return _main_root_from(dot_git, directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _main_root_from(dot_git: str, directory: str) -> str | None:
    if not os.path.isfile(dot_git):
        return None
    try:
        with open(dot_git, "rb") as handle:
            head = handle.read(_GIT_FILE_LIMIT).decode("utf-8", "surrogateescape")
    except OSError:
        return None
    if not head.startswith(_GITDIR_PREFIX):
        return None
    gitdir = head[len(_GITDIR_PREFIX) :].split("\n", 1)[0].strip()
    if not gitdir:
        return None
    gitdir = os.path.join(directory, gitdir)  # an absolute gitdir replaces `directory`
    for marker in _WORKTREE_MARKERS:
        at = gitdir.find(marker)
        if at >= 0:
            return normalise_scope(gitdir[:at] or "/", directory)
    return None


# --- the file ---------------------------------------------------------------------------


class Config:
    """The scopes of one configuration file, in file order, and how to change and save them.

    Scope keys are used as given: callers pass `normalise_scope(...)` results (`login
    --scope .`, `setup` on the current directory), so that a record written here is found
    by `resolve`. Records read from a hand-edited file keep their spelling on disk.
    """

    __slots__ = ("path", "scopes")

    path: Path
    scopes: dict[str, Scope]

    def __init__(self, path: Path, scopes: Mapping[str, Scope] | None = None) -> None:
        self.path = path
        self.scopes = dict(scopes or {})

    def __repr__(self) -> str:
        return f"Config(path={str(self.path)!r}, scopes={list(self.scopes)!r})"

    @classmethod
    def load(cls, path: Path) -> Config:
        """The file at `path`; never raises.

        Missing, unreadable, larger than 1 MiB, not UTF-8 JSON, or not an object holding a
        `scoped` object: empty (and replaced at the next save, as the reference does).
        Records that are not objects are skipped; unknown keys are dropped.
        """
        empty = cls(path)
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_CONFIG_BYTES + 1)
        except (OSError, ValueError):
            return empty
        if len(data) > MAX_CONFIG_BYTES:
            return empty
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return empty
        scoped = document.get("scoped") if isinstance(document, dict) else None
        if not isinstance(scoped, dict):
            return empty
        records = {
            key: record
            for key, raw in scoped.items()
            if (record := Scope.from_json(raw)) is not None
        }
        return cls(path, records)

    def get(self, scope: str) -> Scope | None:
        """The record saved on exactly this scope, if any."""
        return self.scopes.get(scope)

    def update(
        self,
        scope: str,
        *,
        token: str | _Keep | None = _KEEP,
        api_url: str | _Keep | None = _KEEP,
        project: str | _Keep | None = _KEEP,
        project_name: str | _Keep | None = _KEEP,
        environment: str | _Keep | None = _KEEP,
    ) -> Scope:
        """Set fields on a scope, keeping its other fields; returns the new record.

        A field left out keeps its value; None (or "") removes it. A new scope is appended
        after the existing ones; an existing one keeps its place. `login` sets `token` and
        `api_url`; `setup` sets `project`, `project_name` and `environment`.
        """
        current = self.scopes.get(scope, Scope())
        record = Scope.of(
            token=_pick(token, current.token),
            api_url=_pick(api_url, current.api_url),
            project=_pick(project, current.project),
            project_name=_pick(project_name, current.project_name),
            environment=_pick(environment, current.environment),
        )
        self.scopes[scope] = record
        return record

    def remove(self, scope: str) -> bool:
        """Drop a whole scope record (`logout`); True when it existed."""
        return self.scopes.pop(scope, None) is not None

    def dumps(self) -> str:
        """The file's text: `{"scoped": …}` indented by 2 spaces, with a trailing newline."""
        document = {"scoped": {key: record.to_json() for key, record in self.scopes.items()}}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    def save(self) -> None:
        """Write the file atomically with mode 0600, creating its directory (0700) if needed.

        The text goes to a temporary file in the same directory (created 0600 by mkstemp,
        so the token is never readable by others), is fsynced, then renamed over the file.
        Any failure leaves the previous file as it was and removes the temporary file.
        When the configured path is a symlink (dotfile managers), its target is replaced.
        Raises OSError when the file cannot be written.
        """
        import tempfile  # only `login`, `logout` and `setup` write: keep it off `run`'s path

        # Non-UTF-8 directory names reach us from os.getcwd() as lone surrogates; writing
        # them as `\udcXX` escapes keeps the file valid UTF-8 JSON and loads back exactly.
        data = self.dumps().encode("utf-8", "backslashreplace")
        target = Path(os.path.realpath(self.path)) if self.path.is_symlink() else self.path
        directory = target.parent
        if not directory.is_dir():
            os.makedirs(directory, mode=0o700, exist_ok=True)
            os.chmod(directory, 0o700)  # exactly 0700, whatever the umask
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        fsync_directory(directory)


def _pick(new: str | _Keep | None, current: str | None) -> str | None:
    return current if isinstance(new, _Keep) else new


def fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); best effort, the file itself is already complete."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- resolution -------------------------------------------------------------------------


def _records(config: Config) -> Iterator[tuple[str, Scope]]:
    """The records with a usable (absolute) scope, normalised, in file order."""
    for raw, record in config.scopes.items():
        key = _scope_key(raw)
        if key is not None:
            yield key, record


def _best(records: list[tuple[str, Scope]], directory: str, attr: str) -> tuple[str, Scope] | None:
    """10.6 step 2 for one field: the longest matching scope setting it; ties go to the later."""
    best: tuple[str, Scope] | None = None
    for key, record in records:
        if getattr(record, attr) is None or not _matches(key, directory):
            continue
        if best is None or len(key) >= len(best[0]):
            best = (key, record)
    return best


def resolve(
    config: Config,
    cwd: str,
    env: Mapping[str, str],
    *,
    token: str | None = None,
    api_url: str | None = None,
    project: str | None = None,
    environment: str | None = None,
) -> Resolved:
    """Token, server, project and environment for `cwd` (10.6), each with its source.

    Per field, independently: the longest scope matching `cwd` that sets it (a tie goes to
    the later record); then the git worktree fallback (the main repository's root is
    resolved the same way and wins a field when its scope is at least as long); then the
    variables SIGILLO_TOKEN, SIGILLO_API_URL, SIGILLO_PROJECT, SIGILLO_ENVIRONMENT; then the
    flags given here; then, for the server only, DEFAULT_API_URL. Empty strings, in
    variables and flags alike, count as unset. `project` brings along the `project-name`
    of the same record; a project from a variable or a flag has no name.

    `cwd` must be absolute; the file system is read only to look for a `.git` above it,
    and only when the file has scopes.
    """
    directory = normalise_scope(cwd, "/")
    records = list(_records(config))
    main_root = worktree_main_root(directory) if records else None

    values: dict[str, str | None] = {}
    sources: dict[str, Source | None] = {}
    name_of_project: str | None = None
    for attr in ("token", "api_url", "project", "environment"):
        found = _best(records, directory, attr)
        kind = "scope"
        if main_root is not None:
            from_root = _best(records, main_root, attr)
            # A scope matching both (such as `/`) is the same record: keep calling it `scope`.
            if from_root is not None and (
                found is None or (from_root[0] != found[0] and len(from_root[0]) >= len(found[0]))
            ):
                found, kind = from_root, "worktree"
        if found is None:
            values[attr], sources[attr] = None, None
            continue
        key, record = found
        values[attr], sources[attr] = getattr(record, attr), Source(kind, key)
        if attr == "project":
            name_of_project = record.project_name

    overrides = (
        ("token", env.get("SIGILLO_TOKEN"), "env", "SIGILLO_TOKEN"),
        ("api_url", env.get("SIGILLO_API_URL"), "env", "SIGILLO_API_URL"),
        ("project", env.get("SIGILLO_PROJECT"), "env", "SIGILLO_PROJECT"),
        ("environment", env.get("SIGILLO_ENVIRONMENT"), "env", "SIGILLO_ENVIRONMENT"),
        ("token", token, "flag", "--token"),
        ("api_url", api_url, "flag", "--api-url"),
        ("project", project, "flag", "--project"),
        ("environment", environment, "flag", "--env"),
    )
    for attr, value, kind, name in overrides:
        if value:
            values[attr], sources[attr] = value, Source(kind, name)
            if attr == "project":
                name_of_project = None

    server = values["api_url"]
    return Resolved(
        token=values["token"],
        api_url=server or DEFAULT_API_URL,
        project=values["project"],
        project_name=name_of_project,
        environment=values["environment"],
        token_source=sources["token"],
        api_url_source=sources["api_url"] or Source("default"),
        project_source=sources["project"],
        environment_source=sources["environment"],
    )


def child_scopes(config: Config, cwd: str) -> list[tuple[str, Scope]]:
    """Scopes strictly below `cwd` that set a project, as (`./relative/path`, record).

    In file order. Used by the "subfolders configured with sigillo" hint of 10.4 and by
    `me`'s "Configured subfolders", to point a user at the directory they meant.
    """
    directory = normalise_scope(cwd, "/")
    prefix = directory if directory.endswith(os.sep) else directory + os.sep
    return [
        ("./" + key[len(prefix) :], record)
        for key, record in _records(config)
        if record.project is not None and key.startswith(prefix) and key != directory
    ]

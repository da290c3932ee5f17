"""The CLI configuration file and resolution (behaviour.md 10.5, 10.6, 15.3 "Configuration")."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sigillo.cli import config as config_module
from sigillo.cli.config import (
    DEFAULT_API_URL,
    FIELDS,
    MAX_CONFIG_BYTES,
    Config,
    ConfigError,
    Resolved,
    Scope,
    Source,
    child_scopes,
    config_path,
    normalise_scope,
    resolve,
    worktree_main_root,
)

NO_ENV: dict[str, str] = {}


@pytest.fixture
def base(tmp_path: Path) -> str:
    """An absolute, symlink-free directory to build scopes under (git writes real paths)."""
    return str(tmp_path.resolve())


@pytest.fixture
def no_worktree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolution of made-up paths such as `/repo`, without looking at the real file system."""
    monkeypatch.setattr(config_module, "worktree_main_root", lambda cwd: None)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """A umask that would leave everything world-readable: modes must not come from it."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def make(path: Path | str = "/nowhere/config.json", **scopes: Scope) -> Config:
    return Config(Path(path), scopes)


def with_scopes(*pairs: tuple[str, Scope]) -> Config:
    return Config(Path("/nowhere/config.json"), dict(pairs))


def git(*args: str, cwd: Path) -> None:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def git_worktree(root: Path, worktree: Path) -> None:
    """A real repository at `root` with a linked worktree at `worktree`."""
    root.mkdir(parents=True)
    git("init", "-q", cwd=root)
    git("commit", "-q", "--allow-empty", "-m", "init", cwd=root)
    git("worktree", "add", "-q", "--detach", str(worktree), cwd=root)


# --- 10.6 worked example ------------------------------------------------------------------

EXAMPLE = (
    ("/", Scope(token="T", environment="dev")),
    ("/repo", Scope(project="P", environment="prod")),
    ("/repo/web", Scope(project="W")),
)


@pytest.mark.usefixtures("no_worktree")
@pytest.mark.parametrize(
    ("cwd", "token", "project", "environment"),
    [
        ("/repo/web/src", "T", "W", "prod"),
        ("/repo", "T", "P", "prod"),
        ("/tmp", "T", None, "dev"),
        ("/repo-feature", "T", None, "dev"),  # not a worktree here: `/repo` is no parent of it
    ],
)
def test_the_worked_example(cwd: str, token: str, project: str | None, environment: str) -> None:
    got = resolve(with_scopes(*EXAMPLE), cwd, NO_ENV)
    assert (got.token, got.project, got.environment) == (token, project, environment)
    assert got.api_url == DEFAULT_API_URL


def test_the_worked_example_worktree_row(monkeypatch: pytest.MonkeyPatch) -> None:
    roots = {"/repo-feature": "/repo"}
    monkeypatch.setattr(config_module, "worktree_main_root", lambda cwd: roots.get(cwd))
    got = resolve(with_scopes(*EXAMPLE), "/repo-feature", NO_ENV)
    assert (got.token, got.project, got.environment) == ("T", "P", "prod")
    assert got.project_source == Source("worktree", "/repo")
    assert got.environment_source == Source("worktree", "/repo")  # main root `/repo` beats `/`


def test_the_worked_example_on_a_real_worktree(base: str) -> None:
    repo, feature = Path(base, "repo"), Path(base, "repo-feature")
    git_worktree(repo, feature)
    (feature / "src").mkdir()
    config = with_scopes(
        ("/", Scope(token="T", environment="dev")),
        (str(repo), Scope(project="P", project_name="website", environment="prod")),
        (str(repo / "web"), Scope(project="W")),
    )
    assert worktree_main_root(str(feature)) == str(repo)
    for cwd in (feature, feature / "src"):
        got = resolve(config, str(cwd), NO_ENV)
        assert (got.token, got.project, got.project_name, got.environment) == (
            "T",
            "P",
            "website",
            "prod",
        )
    # the main repository itself is an ordinary one: no fallback, same answer
    assert worktree_main_root(str(repo)) is None
    assert resolve(config, str(repo), NO_ENV).project == "P"
    assert resolve(config, str(Path(base, "elsewhere")), NO_ENV).project is None


def test_a_worktrees_own_scope_beats_the_main_repository_for_the_fields_it_sets(
    base: str,
) -> None:
    repo, feature = Path(base, "repo"), Path(base, "repo-feature")
    git_worktree(repo, feature)
    config = with_scopes(
        ("/", Scope(token="T", api_url="https://root.example")),
        (str(repo), Scope(project="P", environment="prod", api_url="https://main.example")),
        (str(feature), Scope(environment="staging")),
    )
    got = resolve(config, str(feature / "deep"), NO_ENV)
    assert (got.project, got.environment, got.api_url) == ("P", "staging", "https://main.example")
    assert got.environment_source == Source("scope", str(feature))
    assert got.project_source == Source("worktree", str(repo))
    assert got.token_source == Source("scope", "/")  # `/` matches both: the same record


def test_a_main_root_scope_of_equal_length_wins(base: str) -> None:
    """10.6 step 3 literally: the main root's field wins when its scope is *at least* as long."""
    repo, feature = Path(base, "main"), Path(base, "wtre")  # same length on purpose
    git_worktree(repo, feature)
    config = with_scopes(
        (str(repo), Scope(environment="from-main")),
        (str(feature), Scope(environment="from-worktree")),
    )
    assert resolve(config, str(feature), NO_ENV).environment == "from-main"


# --- worktree detection -------------------------------------------------------------------


def test_no_git_no_fallback(base: str) -> None:
    Path(base, "plain", "sub").mkdir(parents=True)
    assert worktree_main_root(str(Path(base, "plain", "sub"))) is None


def test_an_ordinary_repository_gives_no_fallback(base: str) -> None:
    repo = Path(base, "repo")
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / "a" / "b").mkdir(parents=True)
    assert worktree_main_root(str(repo)) is None
    assert worktree_main_root(str(repo / "a" / "b")) is None


def test_absolute_and_relative_gitdir_lines(base: str) -> None:
    wt = Path(base, "wt")
    (wt / "sub").mkdir(parents=True)
    (wt / ".git").write_text(f"gitdir: {base}/main/.git/worktrees/wt\n")
    assert worktree_main_root(str(wt)) == f"{base}/main"
    assert worktree_main_root(str(wt / "sub")) == f"{base}/main"

    (wt / ".git").write_text("gitdir: ../projects/main/.git/worktrees/wt\n")
    assert worktree_main_root(str(wt / "sub")) == f"{base}/projects/main"

    (wt / ".git").write_text("gitdir: ../main/.git/worktrees/wt")  # no newline, as some tools
    assert worktree_main_root(str(wt)) == f"{base}/main"


@pytest.mark.parametrize(
    "content",
    [
        "gitdir: ../.git/modules/sub\n",  # a submodule
        "gitdir: /elsewhere/repo.git/worktrees/x\n",  # a bare repository's worktree: no `/.git/`
        "gitdir: \n",
        "gitdir:/main/.git/worktrees/wt\n",  # the prefix is `gitdir: ` with its space
        "something else\n",
        "",
    ],
)
def test_gitdir_files_that_give_no_fallback(base: str, content: str) -> None:
    wt = Path(base, "wt")
    wt.mkdir()
    (wt / ".git").write_text(content)
    assert worktree_main_root(str(wt)) is None


def test_the_first_git_on_the_way_up_decides(base: str) -> None:
    outer = Path(base, "outer")
    (outer / ".git").mkdir(parents=True)  # an ordinary repository above ...
    inner = outer / "inner"
    inner.mkdir()
    (inner / ".git").write_text("gitdir: /main/.git/worktrees/inner\n")  # ... a worktree below
    assert worktree_main_root(str(inner)) == "/main"
    assert worktree_main_root(str(outer)) is None

    # and the other way round: a repository nested in a worktree checkout gives none
    (inner / "nested" / ".git").mkdir(parents=True)
    assert worktree_main_root(str(inner / "nested")) is None


def test_worktree_lookup_is_skipped_when_the_file_has_no_scopes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(cwd: str) -> str | None:
        raise AssertionError("looked for .git although nothing could match")

    monkeypatch.setattr(config_module, "worktree_main_root", fail)
    env = {"SIGILLO_TOKEN": "t", "SIGILLO_PROJECT": "p", "SIGILLO_ENVIRONMENT": "e"}
    got = resolve(make(), "/anywhere", env)
    assert (got.token, got.project, got.environment) == ("t", "p", "e")


# --- resolution ---------------------------------------------------------------------------


@pytest.mark.usefixtures("no_worktree")
def test_a_root_token_and_a_project_scope_combine_below_it() -> None:
    config = with_scopes(
        ("/", Scope(token="tok")), ("/tmp/project", Scope(project="p1", environment="dev"))
    )
    got = resolve(config, "/tmp/project/subdir", NO_ENV)
    assert (got.token, got.project, got.environment) == ("tok", "p1", "dev")
    assert got.token_source == Source("scope", "/")
    assert got.project_source == Source("scope", "/tmp/project")
    assert got.project_source.scope == "/tmp/project"


@pytest.mark.usefixtures("no_worktree")
def test_monorepo_subfolders_resolve_to_their_own_project() -> None:
    config = with_scopes(
        ("/", Scope(token="T")),
        ("/m", Scope(environment="dev")),
        ("/m/app", Scope(project="A", project_name="website")),
        ("/m/api", Scope(project="B", project_name="backend", environment="prod")),
    )
    app = resolve(config, "/m/app/src/components", NO_ENV)
    assert (app.project, app.project_name, app.environment) == ("A", "website", "dev")
    api = resolve(config, "/m/api", NO_ENV)
    assert (api.project, api.project_name, api.environment) == ("B", "backend", "prod")
    top = resolve(config, "/m", NO_ENV)
    assert (top.project, top.project_name, top.environment) == (None, None, "dev")
    # `/m/app` is no parent of `/m/apple`
    assert resolve(config, "/m/apple", NO_ENV).project is None


@pytest.mark.usefixtures("no_worktree")
def test_each_field_comes_from_the_longest_scope_setting_it() -> None:
    config = with_scopes(
        ("/a/b/c", Scope(environment="c-env")),
        ("/", Scope(token="root", api_url="https://root.example", environment="root-env")),
        ("/a", Scope(token="a-token", project="A", project_name="alpha")),
        ("/a/b", Scope(api_url="https://b.example")),
    )
    got = resolve(config, "/a/b/c/d", NO_ENV)
    assert got == Resolved(
        token="a-token",
        api_url="https://b.example",
        project="A",
        project_name="alpha",
        environment="c-env",
        token_source=Source("scope", "/a"),
        api_url_source=Source("scope", "/a/b"),
        project_source=Source("scope", "/a"),
        environment_source=Source("scope", "/a/b/c"),
    )


@pytest.mark.usefixtures("no_worktree")
def test_a_project_brings_its_own_name_and_no_other() -> None:
    config = with_scopes(
        ("/a", Scope(project="A", project_name="alpha")),
        ("/a/b", Scope(environment="dev")),  # does not set a project: A and its name stay
        ("/a/c", Scope(project="C")),  # sets a project without a name
        ("/a/d", Scope(project_name="orphan")),  # a name alone is not a project
    )
    assert resolve(config, "/a/b", NO_ENV).project_name == "alpha"
    c = resolve(config, "/a/c", NO_ENV)
    assert (c.project, c.project_name) == ("C", None)
    d = resolve(config, "/a/d", NO_ENV)
    assert (d.project, d.project_name) == ("A", "alpha")


@pytest.mark.usefixtures("no_worktree")
def test_on_a_tie_the_later_record_wins(tmp_path: Path) -> None:
    # Two spellings of one directory in a hand-edited file are a tie in length.
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "scoped": {
                    "/r": {"token": "first", "environment": "first"},
                    "/r/": {"environment": "second"},
                    "/r/./x/..": {"project": "third"},
                }
            }
        )
    )
    got = resolve(Config.load(path), "/r/src", NO_ENV)
    assert (got.token, got.environment, got.project) == ("first", "second", "third")
    assert got.environment_source == Source("scope", "/r")  # shown normalised

    path.write_text(
        json.dumps({"scoped": {"/r/": {"environment": "second"}, "/r": {"environment": "first"}}})
    )
    assert resolve(Config.load(path), "/r", NO_ENV).environment == "first"


@pytest.mark.usefixtures("no_worktree")
def test_relative_scopes_in_the_file_match_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"scoped": {".": {"token": "x"}, "app": {"project": "y"}}}))
    got = resolve(Config.load(path), "/app", NO_ENV)
    assert (got.token, got.project) == (None, None)


@pytest.mark.usefixtures("no_worktree")
def test_the_current_directory_is_normalised() -> None:
    config = with_scopes(*EXAMPLE)
    got = resolve(config, "/repo/./web/../web/src/", NO_ENV)
    assert (got.project, got.environment) == ("W", "prod")


ENV_ALL = {
    "SIGILLO_TOKEN": "env-token",
    "SIGILLO_API_URL": "https://env.example",
    "SIGILLO_PROJECT": "env-project",
    "SIGILLO_ENVIRONMENT": "env-environment",
}
SAVED = (
    (
        "/",
        Scope(
            token="saved-token",
            api_url="https://saved.example",
            project="saved-project",
            project_name="saved name",
            environment="saved-environment",
        ),
    ),
)


@pytest.mark.usefixtures("no_worktree")
def test_environment_variables_override_the_file() -> None:
    got = resolve(with_scopes(*SAVED), "/x", ENV_ALL)
    assert got == Resolved(
        token="env-token",
        api_url="https://env.example",
        project="env-project",
        project_name=None,  # SIGILLO_PROJECT clears the saved name
        environment="env-environment",
        token_source=Source("env", "SIGILLO_TOKEN"),
        api_url_source=Source("env", "SIGILLO_API_URL"),
        project_source=Source("env", "SIGILLO_PROJECT"),
        environment_source=Source("env", "SIGILLO_ENVIRONMENT"),
    )


@pytest.mark.usefixtures("no_worktree")
@pytest.mark.parametrize(
    ("variable", "attr"),
    [
        ("SIGILLO_TOKEN", "token"),
        ("SIGILLO_API_URL", "api_url"),
        ("SIGILLO_PROJECT", "project"),
        ("SIGILLO_ENVIRONMENT", "environment"),
    ],
)
def test_each_variable_overrides_only_its_field(variable: str, attr: str) -> None:
    got = resolve(with_scopes(*SAVED), "/x", {variable: "v"})
    saved = SAVED[0][1]
    for other in ("token", "api_url", "project", "environment"):
        assert getattr(got, other) == ("v" if other == attr else getattr(saved, other))
    assert got.project_name == (None if attr == "project" else "saved name")


@pytest.mark.usefixtures("no_worktree")
def test_an_empty_variable_counts_as_unset() -> None:
    empty = dict.fromkeys(ENV_ALL, "")
    got = resolve(with_scopes(*SAVED), "/x", empty)
    assert (got.token, got.api_url, got.project, got.project_name, got.environment) == (
        "saved-token",
        "https://saved.example",
        "saved-project",
        "saved name",
        "saved-environment",
    )
    bare = resolve(make(), "/x", empty)
    assert (bare.token, bare.project, bare.environment) == (None, None, None)
    assert (bare.api_url, bare.api_url_source) == (DEFAULT_API_URL, Source("default"))


@pytest.mark.usefixtures("no_worktree")
def test_flags_override_variables_and_the_file() -> None:
    got = resolve(
        with_scopes(*SAVED),
        "/x",
        ENV_ALL,
        token="flag-token",
        api_url="https://flag.example",
        project="flag-project",
        environment="flag-environment",
    )
    assert got == Resolved(
        token="flag-token",
        api_url="https://flag.example",
        project="flag-project",
        project_name=None,
        environment="flag-environment",
        token_source=Source("flag", "--token"),
        api_url_source=Source("flag", "--api-url"),
        project_source=Source("flag", "--project"),
        environment_source=Source("flag", "--env"),
    )
    # a flag left out (or given empty) leaves the variable's value in place
    partial = resolve(with_scopes(*SAVED), "/x", ENV_ALL, environment="dev", project="")
    assert (partial.token, partial.project, partial.environment) == (
        "env-token",
        "env-project",
        "dev",
    )


@pytest.mark.usefixtures("no_worktree")
def test_a_project_flag_drops_the_saved_name() -> None:
    got = resolve(with_scopes(*SAVED), "/x", NO_ENV, project="other")
    assert (got.project, got.project_name) == ("other", None)


@pytest.mark.usefixtures("no_worktree")
def test_the_default_server_applies_last() -> None:
    got = resolve(with_scopes(("/", Scope(token="T"))), "/x", NO_ENV)
    assert (got.api_url, got.api_url_source) == (DEFAULT_API_URL, Source("default"))
    assert got.api_url_source.scope is None
    assert DEFAULT_API_URL == "http://127.0.0.1:8080"


@pytest.mark.usefixtures("no_worktree")
def test_ci_needs_no_file_at_all(tmp_path: Path) -> None:
    env = {
        "SIGILLO_API_URL": "https://ci.example",
        "SIGILLO_TOKEN": "sig_x",
        "SIGILLO_PROJECT": "p",
        "SIGILLO_ENVIRONMENT": "e2e",
    }
    got = resolve(Config.load(tmp_path / "missing.json"), str(tmp_path), env)
    assert (got.api_url, got.token, got.project, got.environment) == (
        "https://ci.example",
        "sig_x",
        "p",
        "e2e",
    )


def test_secrets_stay_out_of_reprs() -> None:
    record = Scope(token="sig_secret_value", project="P")
    assert "sig_secret_value" not in repr(record)
    assert repr(record) == "Scope(token=<set>, project='P')"
    got = resolve(make(), "/x", {"SIGILLO_TOKEN": "sig_secret_value"})
    assert "sig_secret_value" not in repr(got)


# --- child scopes -------------------------------------------------------------------------


def test_child_scopes_are_those_below_with_a_project_in_file_order() -> None:
    config = with_scopes(
        ("/", Scope(token="T")),
        ("/m", Scope(project="M")),
        ("/m/app", Scope(project="A", project_name="my-website", environment="dev")),
        ("/m/docs", Scope(environment="dev")),  # no project: not a hint
        ("/m-other", Scope(project="O")),  # a sibling, not a child
        ("/m/api", Scope(project="B")),
        ("/m/app/sub", Scope(project="S")),
    )
    got = child_scopes(config, "/m")
    assert [(shown, record.project) for shown, record in got] == [
        ("./app", "A"),
        ("./api", "B"),
        ("./app/sub", "S"),
    ]
    assert got[0][1].project_name == "my-website"
    assert [shown for shown, _ in child_scopes(config, "/m/app/")] == ["./sub"]
    assert [shown for shown, _ in child_scopes(config, "/")][:2] == ["./m", "./m/app"]
    assert child_scopes(config, "/m/api") == []


# --- normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("/", "/"),
        (".", "/home/me/app"),
        ("./", "/home/me/app"),
        ("..", "/home/me"),
        ("../..", "/home"),
        ("../../../../..", "/"),
        ("sub/dir", "/home/me/app/sub/dir"),
        ("sub/dir/", "/home/me/app/sub/dir"),
        ("./sub/../other/", "/home/me/app/other"),
        ("/srv/project/", "/srv/project"),
        ("/srv//project///", "/srv/project"),
        ("/srv/./project/../x", "/srv/x"),
        ("//srv/project", "/srv/project"),
        ("/..", "/"),
    ],
)
def test_normalise_scope(scope: str, expected: str) -> None:
    assert normalise_scope(scope, "/home/me/app") == expected


def test_normalise_scope_does_not_follow_symlinks(base: str) -> None:
    Path(base, "real").mkdir()
    Path(base, "link").symlink_to(Path(base, "real"))
    assert normalise_scope("link/.", base) == f"{base}/link"


# --- location -----------------------------------------------------------------------------


def test_config_path_posix() -> None:
    assert config_path({"HOME": "/home/me"}, os_name="posix") == Path(
        "/home/me/.sigillo/config.json"
    )
    assert config_path({"USERPROFILE": "/u/me"}, os_name="posix") == Path(
        "/u/me/.sigillo/config.json"
    )
    assert config_path({"HOME": "", "USERPROFILE": "/u/me"}, os_name="posix") == Path(
        "/u/me/.sigillo/config.json"
    )
    assert config_path({"HOME": "/h", "USERPROFILE": "/u"}, os_name="posix") == Path(
        "/h/.sigillo/config.json"
    )


def test_config_path_posix_without_home_uses_the_password_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pwd

    class Entry:
        pw_dir = "/var/lib/me"

    monkeypatch.setattr(pwd, "getpwuid", lambda uid: Entry())
    assert config_path({}, os_name="posix") == Path("/var/lib/me/.sigillo/config.json")

    def missing(uid: int) -> object:
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", missing)
    with pytest.raises(ConfigError):
        config_path({}, os_name="posix")


def test_config_path_windows() -> None:
    env = {
        "APPDATA": "C:\\Users\\me\\AppData\\Roaming",
        "LOCALAPPDATA": "C:\\Users\\me\\AppData\\Local",
        "USERPROFILE": "C:\\Users\\me",
        "HOME": "/ignored",
    }
    assert str(config_path(env, os_name="nt")) == (
        "C:\\Users\\me\\AppData\\Roaming\\sigillo\\config.json"
    )
    del env["APPDATA"]
    assert str(config_path(env, os_name="nt")) == (
        "C:\\Users\\me\\AppData\\Local\\sigillo\\config.json"
    )
    env["LOCALAPPDATA"] = ""
    assert str(config_path(env, os_name="nt")) == "C:\\Users\\me\\sigillo\\config.json"
    with pytest.raises(ConfigError):
        config_path({"HOME": "/home/me"}, os_name="nt")


# --- the file on disk ---------------------------------------------------------------------

SPEC_FILE = """{
  "scoped": {
    "/": {
      "token": "<session token or sig_…>",
      "api-url": "https://secrets.example.com"
    },
    "/home/me/monorepo/app": {
      "project": "01J8Z4QWERTYUIOPASDFGHJKLZ",
      "project-name": "my-website",
      "environment": "dev"
    }
  }
}
"""


def test_the_spec_example_round_trips_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(SPEC_FILE, encoding="utf-8")
    loaded = Config.load(path)
    assert loaded.scopes == {
        "/": Scope(token="<session token or sig_…>", api_url="https://secrets.example.com"),
        "/home/me/monorepo/app": Scope(
            project="01J8Z4QWERTYUIOPASDFGHJKLZ", project_name="my-website", environment="dev"
        ),
    }
    path.unlink()
    loaded.save()
    assert path.read_bytes() == SPEC_FILE.encode("utf-8")


def test_fields_are_written_in_the_fixed_order_whatever_the_order_they_were_set(
    tmp_path: Path,
) -> None:
    config = Config(tmp_path / "config.json")
    config.update("/x", environment="dev")
    config.update("/x", project_name="name")
    config.update("/x", api_url="https://a.example")
    config.update("/x", project="P")
    config.update("/x", token="T")
    config.save()
    text = (tmp_path / "config.json").read_text()
    assert list(json.loads(text)["scoped"]["/x"]) == list(FIELDS)
    assert text == (
        "{\n"
        '  "scoped": {\n'
        '    "/x": {\n'
        '      "token": "T",\n'
        '      "api-url": "https://a.example",\n'
        '      "project": "P",\n'
        '      "project-name": "name",\n'
        '      "environment": "dev"\n'
        "    }\n"
        "  }\n"
        "}\n"
    )


def test_a_file_with_fields_in_another_order_is_rewritten_in_order(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"scoped": {"/": {"environment": "e", "token": "t"}}}')
    Config.load(path).save()
    assert path.read_text() == '{\n  "scoped": {\n    "/": {\n      "token": "t",\n' + (
        '      "environment": "e"\n    }\n  }\n}\n'
    )


def test_update_keeps_other_fields_and_scope_order(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    config = Config(path)
    config.update("/", token="T", api_url="https://a.example")
    config.update("/app", project="P", project_name="app", environment="dev")
    # login again on `/`: keeps its place (first) and nothing else changes
    config.update("/", token="T2", api_url="https://a.example")
    # setup on `/app` again: keeps the token-less record's other keys
    record = config.update("/app", environment="prod")
    assert record == Scope(project="P", project_name="app", environment="prod")
    config.update("/new", token="N")  # a new scope goes last
    config.save()
    scoped = json.loads(path.read_text())["scoped"]
    assert list(scoped) == ["/", "/app", "/new"]
    assert scoped["/"] == {"token": "T2", "api-url": "https://a.example"}
    assert Config.load(path).scopes == config.scopes


def test_update_with_none_or_empty_removes_a_field() -> None:
    config = make()
    config.update("/", token="T", api_url="https://a.example", environment="dev")
    assert config.update("/", api_url=None, environment="") == Scope(token="T")
    assert config.get("/") == Scope(token="T")


def test_logout_removes_the_whole_scope(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    config = Config(path)
    config.update("/", token="T", api_url="https://a.example")
    config.update("/app", token="A", project="P", project_name="n", environment="dev")
    config.update("/z", project="Z")
    config.save()

    loaded = Config.load(path)
    assert loaded.remove("/app") is True
    loaded.save()
    assert list(json.loads(path.read_text())["scoped"]) == ["/", "/z"]

    # logging out of a scope that is not there still rewrites the file
    path.unlink()
    assert loaded.remove("/app") is False
    loaded.save()
    assert list(json.loads(path.read_text())["scoped"]) == ["/", "/z"]


def test_an_empty_config_is_written_as_an_empty_scoped_object(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    Config(path).save()
    assert path.read_text() == '{\n  "scoped": {}\n}\n'


@pytest.mark.usefixtures("umask_zero")
def test_the_directory_is_created_0700_and_the_file_0600(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".sigillo" / "config.json"
    config = Config(path)
    config.update("/", token="T")
    config.save()
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # saving again keeps both
    config.update("/", token="T2")
    config.save()
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.usefixtures("umask_zero")
def test_a_world_readable_file_becomes_0600(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(SPEC_FILE)
    path.chmod(0o644)
    Config.load(path).save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.usefixtures("umask_zero")
def test_the_token_is_never_in_a_file_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file is 0600 from its creation, before the token is written to it."""
    seen: list[tuple[int, bytes]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append((stat.S_IMODE(os.stat(src).st_mode), Path(src).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    config = Config(tmp_path / "config.json")
    config.update("/", token="sig_secret")
    config.save()
    [(mode, data)] = seen
    assert mode == 0o600
    assert b"sig_secret" in data  # complete (and fsynced) before the rename


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
def test_a_failed_save_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(SPEC_FILE)
    before = path.read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    config = Config.load(path)
    config.update("/", token="new")
    if failing == "write":
        monkeypatch.setattr(os, "fdopen", _failing_fdopen)
    else:
        monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match="No space left"):
        config.save()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temp file left


class _FailingFile:
    """A file whose write fails halfway, as on a full disk."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> _FailingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def write(self, data: bytes) -> int:
        os.write(self.fd, data[:3])
        raise OSError(28, "No space left on device")


def _failing_fdopen(fd: int, mode: str = "r") -> _FailingFile:
    return _FailingFile(fd)


def test_a_symlinked_config_file_is_replaced_at_its_target(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "sigillo.json"
    target.write_text(SPEC_FILE)
    link_dir = tmp_path / ".sigillo"
    link_dir.mkdir()
    link = link_dir / "config.json"
    link.symlink_to(target)
    config = Config.load(link)
    config.update("/", token="new")
    config.save()
    assert link.is_symlink()
    assert json.loads(target.read_text())["scoped"]["/"]["token"] == "new"


def test_non_utf8_directory_names_round_trip(tmp_path: Path) -> None:
    # os.getcwd() gives undecodable bytes as lone surrogates (PEP 383)
    scope = "/home/caf\udce9"
    path = tmp_path / "config.json"
    config = Config(path)
    config.update(scope, project="P")
    config.save()
    path.read_bytes().decode("utf-8")  # still valid UTF-8
    assert list(Config.load(path).scopes) == [scope]


def test_non_ascii_text_is_written_as_is(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    config = Config(path)
    config.update("/home/zoë", project_name="Café ☕")
    config.save()
    assert '"/home/zoë"' in path.read_text(encoding="utf-8")
    assert Config.load(path).scopes == config.scopes


# --- unreadable files read as empty -------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b'{"scoped": {"/": {"token": "T"}}',  # truncated
        b"null",
        b"[]",
        b'"scoped"',
        b"{}",
        b'{"scoped": null}',
        b'{"scoped": []}',
        b'{"scoped": "/"}',
        b'{"other": {"/": {"token": "T"}}}',
        b'\xff\xfe{"scoped": {}}',
        b"[" * 100_000,  # nesting deeper than the parser's recursion limit
    ],
)
def test_a_bad_file_reads_as_empty_and_is_replaced_on_the_next_save(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    config = Config.load(path)
    assert config.scopes == {}
    config.update("/", token="T")
    config.save()
    assert json.loads(path.read_text()) == {"scoped": {"/": {"token": "T"}}}


def test_a_file_over_one_mebibyte_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    document = '{"scoped": {"/": {"token": "T"}}}'
    path.write_text(document + " " * (MAX_CONFIG_BYTES - len(document)))
    assert path.stat().st_size == MAX_CONFIG_BYTES
    assert Config.load(path).scopes == {"/": Scope(token="T")}  # exactly 1 MiB is read

    path.write_text(document + " " * (MAX_CONFIG_BYTES - len(document) + 1))
    config = Config.load(path)
    assert config.scopes == {}
    config.save()
    assert path.read_text() == '{\n  "scoped": {}\n}\n'


def test_missing_and_unreadable_files_read_as_empty(tmp_path: Path) -> None:
    assert Config.load(tmp_path / "missing.json").scopes == {}
    (tmp_path / "dir.json").mkdir()
    assert Config.load(tmp_path / "dir.json").scopes == {}


def test_bad_records_are_skipped_and_bad_fields_dropped(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "version": 2,
                "scoped": {
                    "/": {"token": "T", "api-url": 8080, "unknown": "x", "environment": ""},
                    "/broken": "not a record",
                    "/list": ["token"],
                    "/app": {"project": "P", "project-name": None, "environment": "dev"},
                    "/empty": {},
                },
            }
        )
    )
    config = Config.load(path)
    assert config.scopes == {
        "/": Scope(token="T"),
        "/app": Scope(project="P", environment="dev"),
        "/empty": Scope(),
    }
    config.save()
    assert json.loads(path.read_text()) == {
        "scoped": {
            "/": {"token": "T"},
            "/app": {"project": "P", "environment": "dev"},
            "/empty": {},
        }
    }


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b"\xef\xbb\xbf" + SPEC_FILE.encode())
    assert list(Config.load(path).scopes) == ["/", "/home/me/monorepo/app"]

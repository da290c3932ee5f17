"""Resolution of token, server, project and environment, end to end (behaviour.md 10.4,
10.6): the real executable in real directories, a real git worktree, and the documented
order config < environment variables < flags, observed through `sigillo me` (what is
resolved) and `sigillo secrets` (what is actually read)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.cli.conftest import Project, Server, Sigillo

MARK = "Setup:   "


def write_config(home: Path, scoped: dict[str, dict[str, str]]) -> None:
    (home / ".sigillo").mkdir(exist_ok=True)
    (home / ".sigillo" / "config.json").write_text(json.dumps({"scoped": scoped}, indent=2))


def setup_lines(sigillo: Sigillo, cwd: Path, **env: str) -> list[str]:
    """`me`'s Setup, Project and Env lines in `cwd` (empty when nothing is resolved)."""
    done = sigillo("me", cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(MARK)]
    return lines[starts[0] : starts[0] + 3] if starts else []


def names(sigillo: Sigillo, *args: str, cwd: Path | None = None, **env: str) -> list[str]:
    done = sigillo("secrets", *args, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A real (symlink-free) directory: scopes are compared as the CLI sees os.getcwd()."""
    directory = tmp_path.resolve() / "base"
    directory.mkdir()
    return directory


@pytest.fixture
def two_projects(cli_server: Server, project: Project) -> tuple[Project, Project]:
    """`project` (A) and another (B), each environment holding one secret named after it:
    A_DEV, A_PREVIEW, A_PROD, B_DEV, … — so `sigillo secrets` shows where it read."""
    with cli_server.api() as api:
        created = api.post(
            "/api/v0/projects",
            json={"name": f"b-{uuid.uuid4().hex[:8]}", "orgId": cli_server.org_id},
        ).json()
        listed = api.get(f"/api/v0/projects/{created['id']}/environments").json()
        other = Project(
            created["id"], created["name"], {e["slug"]: e["id"] for e in listed["environments"]}
        )
        for letter, each in (("A", project), ("B", other)):
            for slug, environment_id in each.environments.items():
                body = {"secrets": {f"{letter}_{slug.upper()}": "value"}}
                put = api.put(
                    f"/api/v0/projects/{each.id}/environments/{environment_id}/secrets", json=body
                )
                assert put.status_code == 200, put.text
    return project, other


# --- nested directories -----------------------------------------------------------------


def test_each_field_comes_from_the_longest_scope_setting_it(
    sigillo: Sigillo,
    home: Path,
    base: Path,
    cli_server: Server,
    two_projects: tuple[Project, Project],
) -> None:
    """The example of 10.6: `/` → token, dev; `/repo` → P, prod; `/repo/web` → W."""
    a, b = two_projects
    repo, web, elsewhere = base / "repo", base / "repo" / "web", base / "elsewhere"
    (web / "src").mkdir(parents=True)
    elsewhere.mkdir()
    write_config(
        home,
        {
            "/": {"token": cli_server.session, "environment": "dev"},
            str(repo): {"project": a.id, "project-name": "repo-app", "environment": "prod"},
            str(web): {"project": b.id, "project-name": "web-app"},
        },
    )
    assert setup_lines(sigillo, web / "src") == [
        f"{MARK}{web}",
        f"Project: web-app ({b.id})",
        "Env:     prod",
    ]
    assert names(sigillo, cwd=web / "src") == ["B_PROD"]
    assert setup_lines(sigillo, repo) == [
        f"{MARK}{repo}",
        f"Project: repo-app ({a.id})",
        "Env:     prod",
    ]
    assert names(sigillo, cwd=repo) == ["A_PROD"]
    # a sibling whose name starts like the scope is not inside it
    sibling = base / "repo-other"
    sibling.mkdir()
    assert setup_lines(sigillo, sibling) == [f"{MARK}/", "Project: —", "Env:     dev"]
    assert setup_lines(sigillo, elsewhere) == [f"{MARK}/", "Project: —", "Env:     dev"]


def test_setup_in_a_directory_then_use_it_below(
    sigillo: Sigillo,
    home: Path,
    base: Path,
    cli_server: Server,
    two_projects: tuple[Project, Project],
) -> None:
    a, _ = two_projects
    assert sigillo("login", "--token", cli_server.session).returncode == 0
    done = sigillo("setup", "--project", a.id, "--env", "preview", cwd=base)
    assert done.returncode == 0, done.stderr
    deep = base / "x" / "y"
    deep.mkdir(parents=True)
    assert names(sigillo, cwd=deep) == ["A_PREVIEW"]


# --- monorepos --------------------------------------------------------------------------


def test_monorepo_root_points_at_its_configured_subfolders(
    sigillo: Sigillo,
    home: Path,
    base: Path,
    cli_server: Server,
    two_projects: tuple[Project, Project],
) -> None:
    a, b = two_projects
    for name in ("app", "api", "docs"):
        (base / name).mkdir()
    write_config(
        home,
        {
            "/": {"token": cli_server.session},
            str(base / "app"): {
                "project": a.id,
                "project-name": "my-website",
                "environment": "dev",
            },
            str(base / "api"): {"project": b.id},
        },
    )
    hint = (
        "\nsubfolders configured with sigillo:\n"
        "  ./app  →  my-website (dev)\n"
        f"  ./api  →  {b.id}\n"
        "\nrun sigillo from one of these directories instead, or run:\n"
        "  sigillo setup\n"
    )
    done = sigillo("secrets", cwd=base)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"error: project not configured for {base}\n"
        "  sigillo setup --project <PROJECT_ID> --env <SLUG>\n" + hint
    )
    # with a project but no environment, the env message gets the same hint
    done = sigillo("secrets", cwd=base, env={"SIGILLO_PROJECT": a.id})
    assert done.stderr == f"error: env not configured for {base}\n  sigillo setup\n" + hint
    # from a subfolder it just works, and `me` at the root lists the subfolders
    assert names(sigillo, cwd=base / "app") == ["A_DEV"]
    me = sigillo("me", cwd=base)
    assert me.stdout.endswith(
        f"\nConfigured subfolders:\n  ./app  →  my-website (dev)\n  ./api  →  {b.id}\n"
    )
    # a directory with no configured subfolder gets no hint
    done = sigillo("secrets", cwd=base / "docs")
    assert done.stderr == (
        f"error: project not configured for {base / 'docs'}\n"
        "  sigillo setup --project <PROJECT_ID> --env <SLUG>\n"
    )


# --- git worktrees ----------------------------------------------------------------------


def git(*args: str, cwd: Path) -> None:
    """git without the user's or the system's configuration."""
    env = {
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def worktree(base: Path) -> tuple[Path, Path]:
    """A repository `base/repo` with one commit and a linked worktree `base/repo-feature`."""
    repo = base / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    git("commit", "-q", "--allow-empty", "-m", "init", cwd=repo)
    git("worktree", "add", "-q", "-b", "feature", str(base / "repo-feature"), cwd=repo)
    assert (base / "repo-feature" / ".git").is_file()
    return repo, base / "repo-feature"


def test_a_worktree_uses_the_main_repository_setup(
    sigillo: Sigillo,
    home: Path,
    cli_server: Server,
    worktree: tuple[Path, Path],
    two_projects: tuple[Project, Project],
) -> None:
    a, _ = two_projects
    repo, feature = worktree
    (feature / "src").mkdir()
    write_config(
        home,
        {
            "/": {"token": cli_server.session, "environment": "dev"},
            str(repo): {"project": a.id, "project-name": "repo-app", "environment": "prod"},
        },
    )
    # the main root's scope (/…/repo) beats `/` for the environment too
    assert setup_lines(sigillo, feature / "src") == [
        f"{MARK}{repo} (main repository of this git worktree)",
        f"Project: repo-app ({a.id})",
        "Env:     prod",
    ]
    assert names(sigillo, cwd=feature / "src") == ["A_PROD"]
    assert names(sigillo, cwd=repo) == ["A_PROD"]


def test_a_worktree_scope_beats_the_main_repository_for_its_fields(
    sigillo: Sigillo,
    home: Path,
    cli_server: Server,
    worktree: tuple[Path, Path],
    two_projects: tuple[Project, Project],
) -> None:
    a, b = two_projects
    repo, feature = worktree
    write_config(
        home,
        {
            "/": {"token": cli_server.session},
            str(repo): {"project": a.id, "environment": "prod"},
            str(feature): {"environment": "preview"},
        },
    )
    assert names(sigillo, cwd=feature) == ["A_PREVIEW"]  # project from main, env its own
    write_config(
        home,
        {
            "/": {"token": cli_server.session},
            str(repo): {"project": a.id, "environment": "prod"},
            str(feature): {"project": b.id},
        },
    )
    assert names(sigillo, cwd=feature) == ["B_PROD"]


def test_an_ordinary_clone_has_no_worktree_fallback(
    sigillo: Sigillo, home: Path, base: Path, cli_server: Server, worktree: tuple[Path, Path]
) -> None:
    repo, _ = worktree
    clone = base / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=base)
    write_config(home, {"/": {"token": cli_server.session}, str(repo): {"project": "P"}})
    assert setup_lines(sigillo, clone) == []


# --- variables and flags ----------------------------------------------------------------


def test_variables_override_the_config_and_flags_override_both(
    sigillo: Sigillo,
    home: Path,
    base: Path,
    cli_server: Server,
    two_projects: tuple[Project, Project],
) -> None:
    a, b = two_projects
    write_config(
        home,
        {
            "/": {"token": "not-a-valid-session", "api-url": "http://127.0.0.1:1"},
            str(base): {"project": a.id, "environment": "dev"},
        },
    )
    url, session = cli_server.url, cli_server.session
    # conftest sets SIGILLO_API_URL; the config's server and token lose to the variables
    assert names(sigillo, cwd=base, SIGILLO_TOKEN=session) == ["A_DEV"]
    # without SIGILLO_API_URL the config's (dead) server is used
    done = sigillo("secrets", cwd=base, env={"SIGILLO_TOKEN": session, "SIGILLO_API_URL": ""})
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot connect to http://127.0.0.1:1")
    # ... and --api-url beats both
    assert names(
        sigillo, "--api-url", url, cwd=base, SIGILLO_TOKEN=session, SIGILLO_API_URL=""
    ) == ["A_DEV"]
    # --token beats SIGILLO_TOKEN
    done = sigillo("secrets", "--token", "bad", cwd=base, env={"SIGILLO_TOKEN": session})
    assert done.returncode == 1
    assert "(401)" in done.stderr

    env = {"SIGILLO_TOKEN": session}
    assert names(sigillo, cwd=base, **env, SIGILLO_ENVIRONMENT="prod") == ["A_PROD"]
    assert names(sigillo, cwd=base, **env, SIGILLO_PROJECT=b.id) == ["B_DEV"]
    assert names(sigillo, "-p", a.id, cwd=base, **env, SIGILLO_PROJECT=b.id) == ["A_DEV"]
    assert names(sigillo, "--env", "preview", cwd=base, **env, SIGILLO_ENVIRONMENT="prod") == [
        "A_PREVIEW"
    ]
    assert names(sigillo, "-c", "prod", cwd=base, **env) == ["A_PROD"]
    assert names(sigillo, "-c", "prod", "--env", "preview", cwd=base, **env) == ["A_PREVIEW"]
    # an empty variable counts as unset
    assert names(sigillo, cwd=base, **env, SIGILLO_PROJECT="", SIGILLO_ENVIRONMENT="") == ["A_DEV"]
    # a project from a variable carries no saved name
    lines = setup_lines(sigillo, base, **env, SIGILLO_PROJECT=b.id)
    assert lines == [
        f"{MARK}$SIGILLO_PROJECT (environment variable)",
        f"Project: {b.id}",
        "Env:     dev",
    ]


def test_ci_without_any_config_file(
    sigillo: Sigillo, home: Path, cli_server: Server, two_projects: tuple[Project, Project]
) -> None:
    """The usual CI setup (10.7): variables only, no config file anywhere."""
    a, _ = two_projects
    env = {
        "SIGILLO_TOKEN": cli_server.session,
        "SIGILLO_PROJECT": a.id,
        "SIGILLO_ENVIRONMENT": "prod",
    }
    assert names(sigillo, **env) == ["A_PROD"]
    assert not (home / ".sigillo").exists()

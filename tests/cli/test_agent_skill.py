"""`sigillo agent skill`: SKILL.md printed, and installed for each agent host into a
temporary HOME or a project directory (--dir), twice: the same files, no block written
twice, the paths printed. No server is needed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from sigillo.agents.skill import BEGIN, END, HOSTS, SKILL
from tests.cli.conftest import AGENT_MARKERS, sigillo_command

HOME_PATHS = {
    "claude": ".claude/skills/sigillo/SKILL.md",
    "cursor": ".cursor/rules/sigillo.mdc",
    "codex": ".codex/AGENTS.md",
    "gemini": ".gemini/GEMINI.md",
    "agents": ".agents/skills/sigillo/SKILL.md",
}
PROJECT_PATHS = {**HOME_PATHS, "codex": "AGENTS.md", "gemini": "GEMINI.md"}


def skill(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SIGILLO_") and k not in AGENT_MARKERS
    }
    env["HOME"] = str(home)
    return subprocess.run(
        [*sigillo_command(), "agent", "skill", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or home,
        timeout=60,
        check=False,
    )


def files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def front_matter(text: str) -> dict[str, object]:
    assert text.startswith("---\n")
    document = yaml.safe_load(text.split("---\n")[1])
    assert isinstance(document, dict)
    return document


def test_without_install_prints_the_skill(tmp_path: Path) -> None:
    done = skill(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == SKILL
    matter = front_matter(done.stdout)
    assert matter["name"] == "sigillo"
    assert "sigillo run" in str(matter["description"])
    for teaching in (
        "sigillo run",
        "secrets get",
        "secrets download",
        "secrets set",
        "ask a person",
    ):
        assert teaching in done.stdout
    assert files(tmp_path) == {}  # printing writes nothing


def test_the_hosts_are_the_documented_ones() -> None:
    assert set(HOSTS) == set(HOME_PATHS)


@pytest.mark.parametrize("host", sorted(HOME_PATHS))
def test_install_into_home_is_idempotent(tmp_path: Path, host: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    first = skill(home, "--install", host)
    assert first.returncode == 0, first.stderr
    target = home / HOME_PATHS[host]
    assert first.stdout == f"{host}: wrote {target}\n"
    written = files(home)
    assert list(written) == [HOME_PATHS[host]]
    second = skill(home, "--install", host)
    assert second.returncode == 0, second.stderr
    assert second.stdout == f"{host}: unchanged (already installed) {target}\n"
    assert files(home) == written
    _check_content(host, written[HOME_PATHS[host]])


@pytest.mark.parametrize("host", sorted(PROJECT_PATHS))
def test_install_into_a_project_directory(tmp_path: Path, host: str) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    first = skill(home, "--install", host, "--dir", "../project", cwd=home)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{host}: wrote {project / PROJECT_PATHS[host]}\n"
    assert files(home) == {}  # nothing in the home directory
    written = files(project)
    assert list(written) == [PROJECT_PATHS[host]]
    again = skill(home, "--install", host, "--dir", str(project))
    assert "unchanged" in again.stdout
    assert files(project) == written


@pytest.mark.parametrize("host", ["codex", "gemini"])
def test_a_shared_file_keeps_its_text_and_gets_one_block(tmp_path: Path, host: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shared = project / PROJECT_PATHS[host]
    shared.write_text("# House rules\n\nUse tabs.\n", encoding="utf-8")
    for _ in range(3):
        done = skill(tmp_path, "--install", host, "--dir", str(project))
        assert done.returncode == 0, done.stderr
    text = shared.read_text(encoding="utf-8")
    assert text.startswith("# House rules\n\nUse tabs.\n\n")
    assert text.count(BEGIN) == 1
    assert text.count(END) == 1
    # an older block is replaced, the rest kept
    shared.write_text(f"before\n{BEGIN}\nold text\n{END}\nafter\n", encoding="utf-8")
    skill(tmp_path, "--install", host, "--dir", str(project))
    text = shared.read_text(encoding="utf-8")
    assert "old text" not in text
    assert text.startswith(f"before\n{BEGIN}\n")
    assert text.endswith(f"{END}\nafter\n")


def test_several_hosts_at_once(tmp_path: Path) -> None:
    done = skill(tmp_path, "--install", "claude,cursor", "--install", "codex")
    assert done.returncode == 0, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [
        "claude",
        "cursor",
        "codex",
    ]
    assert set(files(tmp_path)) == {HOME_PATHS[h] for h in ("claude", "cursor", "codex")}


def test_an_unknown_host_is_a_clear_error(tmp_path: Path) -> None:
    done = skill(tmp_path, "--install", "claude", "--install", "notepad")
    assert done.returncode == 1
    assert done.stderr.startswith("error: unknown agent host notepad\n")
    assert "claude, cursor, codex" in done.stderr
    assert files(tmp_path) == {}  # nothing written when any host is wrong


def test_dir_must_exist_and_needs_install(tmp_path: Path) -> None:
    missing = skill(tmp_path, "--install", "claude", "--dir", str(tmp_path / "nope"))
    assert missing.returncode == 1
    assert "is not a directory" in missing.stderr
    alone = skill(tmp_path, "--dir", str(tmp_path))
    assert alone.returncode == 1
    assert "--dir needs --install" in alone.stderr


def _check_content(host: str, text: str) -> None:
    if host == "cursor":
        matter = front_matter(text)
        assert matter["alwaysApply"] is True
        assert "sigillo run" in str(matter["description"])
    elif host in ("codex", "gemini"):
        assert text.startswith(BEGIN)
        assert text.count(BEGIN) == 1
    else:
        assert text == SKILL
    assert "sigillo run" in text
    assert "ask a person" in text


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_skill_lines() -> list[list[str]]:
    """The `sigillo agent skill …` lines of the README's "Install skill for AI agents"
    section, without their comments."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Install skill for AI agents\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].split() for line in block.splitlines() if line.strip()]


def test_the_readme_section_works_as_written(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    lines = readme_skill_lines()
    assert len(lines) == 4
    for words in lines:
        assert words[:3] == ["sigillo", "agent", "skill"]
        done = skill(home, *words[3:], cwd=project)
        assert done.returncode == 0, (words, done.stderr)
        assert done.stdout
    assert set(files(home)) == {HOME_PATHS["claude"], HOME_PATHS["codex"]}
    assert set(files(project)) == {PROJECT_PATHS["cursor"]}

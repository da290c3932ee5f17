"""The real programs that read Sigillo's downloads [D19]: Node with the npm packages
`dotenv` and `yaml` (tests/consumers/package.json, installed into node_modules by
`npm ci`, as .ci/run does), python-dotenv and PyYAML (the `test` extra), bash, dash and zsh.

Where one is missing its tests are skipped with a red line in the summary; with
SIGILLO_REQUIRE_CONSUMERS=1 (as .ci/run sets) they fail instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
REQUIRE_CONSUMERS = os.environ.get("SIGILLO_REQUIRE_CONSUMERS") == "1"
SHELLS = ("bash", "dash", "zsh")


def missing(consumer: str) -> str | None:
    """Why `consumer` cannot run here, or None when it can."""
    if consumer in ("dotenv", "yaml"):
        if shutil.which("node") is None:
            return "node is not installed"
        if not (NODE_MODULES / consumer / "package.json").is_file():
            return f"the npm package {consumer} is not installed (cd tests/consumers && npm ci)"
        return None
    if consumer in ("python-dotenv", "PyYAML"):
        module = "dotenv" if consumer == "python-dotenv" else "yaml"
        if importlib.util.find_spec(module) is None:
            return f"{consumer} is not installed (pip install -e '.[test]')"
        return None
    if consumer in SHELLS:
        return None if shutil.which(consumer) else f"{consumer} is not installed"
    raise ValueError(consumer)


def need(*consumers: str) -> None:
    """Skip (or, under SIGILLO_REQUIRE_CONSUMERS=1, fail) unless every consumer can run."""
    problems = [problem for consumer in consumers if (problem := missing(consumer))]
    if not problems:
        return
    message = "consumer missing: " + "; ".join(problems)
    if REQUIRE_CONSUMERS:
        pytest.fail(message + " (SIGILLO_REQUIRE_CONSUMERS=1)", pytrace=False)
    pytest.skip(message)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    consumers = ("dotenv", "yaml", "python-dotenv", "PyYAML", *SHELLS)
    problems = [problem for consumer in consumers if (problem := missing(consumer))]
    if problems:
        terminalreporter.write_sep("!", "FORMAT CONSUMER TESTS WERE SKIPPED", red=True, bold=True)
        for problem in problems:
            terminalreporter.write_line(problem, red=True)
        terminalreporter.write_line("CI (SIGILLO_REQUIRE_CONSUMERS=1) fails on this.", red=True)

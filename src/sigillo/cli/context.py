"""What every command starts from: the resolved token, server, project and environment
(config.py), the output streams and a client; and the standard errors of behaviour.md 10.4
when one of them is missing."""

from __future__ import annotations

import os
from argparse import Namespace
from collections.abc import Mapping
from functools import cached_property

from sigillo.cli.client import Client, path
from sigillo.cli.config import Config, Resolved, child_scopes, config_path, resolve
from sigillo.cli.errors import CliError
from sigillo.cli.output import Output, printable

__all__ = ["Context"]


class Context:
    def __init__(
        self,
        args: Namespace,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        out: Output | None = None,
    ) -> None:
        self.args = args
        self.env = os.environ if env is None else env
        self.cwd = cwd or os.getcwd()
        self.out = out or Output(env=self.env)

    @cached_property
    def config(self) -> Config:
        return Config.load(config_path(self.env))

    @cached_property
    def resolved(self) -> Resolved:
        args = self.args
        return resolve(
            self.config,
            self.cwd,
            self.env,
            token=getattr(args, "token", None),
            api_url=getattr(args, "api_url", None),
            project=getattr(args, "project", None),
            environment=_first(getattr(args, "environments", None)),
        )

    @cached_property
    def client(self) -> Client:
        return Client(self.resolved.api_url, self.resolved.token)

    def signed_in(self) -> Client:
        """The client, once a token is known (`error: not logged in` otherwise)."""
        if not self.resolved.token:
            raise CliError("not logged in", "  sigillo login")
        return self.client

    def project(self) -> str:
        self.signed_in()
        project = self.resolved.project
        if not project:
            raise CliError(
                f"project not configured for {self.cwd}",
                "  sigillo setup --project <PROJECT_ID> --env <SLUG>",
                *self._subfolder_hint(),
            )
        return project

    def environment(self) -> str:
        self.project()
        environment = self.resolved.environment
        if not environment:
            raise CliError(
                f"env not configured for {self.cwd}", "  sigillo setup", *self._subfolder_hint()
            )
        return environment

    def environments(self) -> list[str]:
        """The target environments of a write (behaviour.md 11.7): every `--env`, then every
        `-c`, first occurrence kept; the resolved one when neither is given."""
        if getattr(self.args, "at", None) is not None:  # `secrets --at T set …` (issue 17)
            raise CliError(
                "--at reads the past; a write always changes the present",
                "  leave --at out (to bring values back: sigillo secrets rollback --to …)",
            )
        given = list(dict.fromkeys(getattr(self.args, "environments", None) or []))
        if not given:
            return [self.environment()]
        self.project()
        return given

    def environment_exists(self, environment: str) -> bool:
        """Whether the resolved project has an environment of this slug or id (False when
        the project cannot be listed)."""
        listed = self.client.get(path("projects", self.resolved.project or "", "environments"))
        items = (listed.json() or {}).get("environments") if listed.ok else None
        return isinstance(items, list) and any(
            isinstance(e, dict) and environment in (e.get("slug"), e.get("id")) for e in items
        )

    def environment_not_found(self, environment: str) -> CliError:
        """`env X was not found in project P` with the available ones (behaviour.md 10.4);
        `project P not found` when it is the project that is unknown (issue 16)."""
        project = self.resolved.project or ""
        listed = self.client.get(path("projects", project, "environments"))
        if listed.status == 404:  # (an API token is 401 here: it cannot list environments)
            return _project_not_found(self.client, project)
        if not listed.ok:
            return CliError(
                f"env {printable(environment)} was not found or you do not have access to it"
            )
        environments = (listed.json() or {}).get("environments", [])
        return CliError(
            f"env {printable(environment)} was not found in project "
            f"{printable(self.resolved.project or '')}{self._did_you_mean(project, environment)}",
            "available envs:",
            *(
                f"  - {printable(str(e.get('name')))} ({printable(str(e.get('slug')))})"
                for e in environments
            ),
        )

    def _did_you_mean(self, project: str, environment: str) -> str:
        """The "; did you mean prod?" when the server knows a close slug (it decides which, from
        the environments this caller may see)."""
        looked = self.client.get(path("projects", project, "environments", environment))
        answer = looked.json() if looked.status == 404 else None
        suggestion = answer.get("suggestion") if isinstance(answer, dict) else None
        return f"; did you mean {printable(suggestion)}?" if isinstance(suggestion, str) else ""

    def _subfolder_hint(self) -> list[str]:
        children = child_scopes(self.config, self.cwd)
        if not children:
            return []
        lines = ["", "subfolders configured with sigillo:"]
        for relative, scope in children:
            name = scope.project_name or scope.project or ""
            where = f"{name} ({scope.environment})" if scope.environment else name
            lines.append(f"  {printable(relative)}  →  {printable(where)}")
        lines += [
            "",
            "run sigillo from one of these directories instead, or run:",
            "  sigillo setup",
        ]
        return lines


def _project_not_found(client: Client, project: str) -> CliError:
    """`project P not found`, then the projects the caller can reach (when it can list)."""
    listed = client.get(path("projects"))
    items = (listed.json() or {}).get("projects") if listed.ok else None
    lines = [
        f"  - {printable(str(p.get('orgName')))} / {printable(str(p.get('name')))}"
        f" ({printable(str(p.get('id')))})"
        for p in (items if isinstance(items, list) else [])
        if isinstance(p, dict)
    ]
    hint = ["available projects:", *lines] if lines else []
    return CliError(
        f"project {printable(project)} not found or you do not have access to it",
        *hint,
        "  sigillo setup --project <PROJECT_ID>   (or -p, or $SIGILLO_PROJECT)",
    )


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None

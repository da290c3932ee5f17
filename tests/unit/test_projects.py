from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from sigillo.domain import projects
from sigillo.domain.errors import Conflict, InvalidInput, NotFound
from sigillo.domain.events import (
    EnvironmentCreated,
    EnvironmentDeleted,
    EnvironmentRenamed,
    ProjectCreated,
    ProjectDeleted,
    ProjectRenamed,
)


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"ID{next(counter)}"


def created() -> projects.ProjectState:
    events = projects.decide(
        projects.ProjectState(), projects.CreateProject("P", "O", "App"), now=0, new_id=ids()
    )
    return projects.replay(events)


def test_a_new_project_gets_dev_preview_prod_in_that_order() -> None:
    events = projects.decide(
        projects.ProjectState(), projects.CreateProject("P", "O", " My App "), now=0, new_id=ids()
    )
    assert events == [
        ProjectCreated("P", "O", "My App"),
        EnvironmentCreated("ID1", "P", "Dev", "dev"),
        EnvironmentCreated("ID2", "P", "Preview", "preview"),
        EnvironmentCreated("ID3", "P", "Prod", "prod"),
    ]


def test_creating_twice_conflicts() -> None:
    with pytest.raises(Conflict):
        projects.decide(created(), projects.CreateProject("P", "O", "App"), now=0, new_id=ids())


def test_environment_slugs_are_unique_within_a_project() -> None:
    state = created()
    with pytest.raises(Conflict, match="slug already exists"):
        projects.decide(
            state, projects.CreateEnvironment("Another dev", "dev"), now=0, new_id=ids()
        )
    [event] = projects.decide(
        state, projects.CreateEnvironment("Staging", "staging"), now=0, new_id=ids()
    )
    assert event == EnvironmentCreated("ID1", "P", "Staging", "staging")


def test_rename_needs_a_field_keeps_the_other_and_refuses_a_taken_slug() -> None:
    state = created()
    with pytest.raises(InvalidInput, match="at least one of name or slug"):
        projects.decide(state, projects.RenameEnvironment("ID1"), now=0, new_id=ids())
    assert projects.decide(
        state, projects.RenameEnvironment("ID1", slug="qa"), now=0, new_id=ids()
    ) == [EnvironmentRenamed("ID1", "Dev", "qa")]
    assert projects.decide(
        state, projects.RenameEnvironment("ID1", name="Develop"), now=0, new_id=ids()
    ) == [EnvironmentRenamed("ID1", "Develop", "dev")]
    with pytest.raises(Conflict):
        projects.decide(state, projects.RenameEnvironment("ID1", slug="prod"), now=0, new_id=ids())


def test_renaming_to_its_own_slug_is_allowed() -> None:
    events = projects.decide(
        created(), projects.RenameEnvironment("ID2", name="PR", slug="preview"), now=0, new_id=ids()
    )
    assert events == [EnvironmentRenamed("ID2", "PR", "preview")]


def test_deleting_an_environment_frees_its_slug() -> None:
    state = created()
    [deleted] = projects.decide(state, projects.DeleteEnvironment("ID1"), now=0, new_id=ids())
    assert deleted == EnvironmentDeleted("ID1")
    state = projects.evolve(state, deleted)
    with pytest.raises(NotFound):
        projects.decide(state, projects.DeleteEnvironment("ID1"), now=0, new_id=ids())
    assert projects.decide(state, projects.CreateEnvironment("Dev", "dev"), now=0, new_id=ids())


def test_a_deleted_or_missing_project_takes_no_commands() -> None:
    state = created()
    [deleted] = projects.decide(state, projects.DeleteProject(), now=0, new_id=ids())
    assert deleted == ProjectDeleted("P")
    for gone in [projects.evolve(state, deleted), projects.ProjectState()]:
        for command in [
            projects.RenameProject("x"),
            projects.DeleteProject(),
            projects.CreateEnvironment("x", "x"),
        ]:
            with pytest.raises(NotFound):
                projects.decide(gone, command, now=0, new_id=ids())


def test_rename_project_validates_the_name() -> None:
    state = created()
    assert projects.decide(state, projects.RenameProject(" Renamed "), now=0, new_id=ids()) == [
        ProjectRenamed("P", "Renamed")
    ]
    with pytest.raises(InvalidInput):
        projects.decide(state, projects.RenameProject(" "), now=0, new_id=ids())

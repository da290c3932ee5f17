"""Organisations. Members, roles and invitations join this aggregate with the REST API."""

from __future__ import annotations

import msgspec

from sigillo.domain.events import OrgCreated
from sigillo.domain.values import display_name

__all__ = ["CreateOrg", "decide"]


class CreateOrg(msgspec.Struct, frozen=True):
    org_id: str
    name: str


def decide(command: CreateOrg) -> list[OrgCreated]:
    return [OrgCreated(command.org_id, display_name(command.name))]

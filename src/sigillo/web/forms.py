"""Reading submitted forms: every field is text, whatever arrives.

Browsers send `application/x-www-form-urlencoded`; anything else (JSON, a file upload, a
missing field, a field given twice) reads as text or as the empty string, never as an
exception, so a malformed request gets the form back with a message (a 4xx), not a 500.
Invalid UTF-8 arrives as U+FFFD and is then refused by the value rules of the domain.
Lengths are not cut here: a value too long for its rule is refused by that rule, with a
message, rather than silently shortened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from sigillo.domain.errors import InvalidInput

__all__ = ["Form", "FormErrors", "read_form"]

LABELS = {
    "name": "Name",
    "email": "Email",
    "password": "Password",
    "current_password": "Current password",
    "new_password": "New password",
    "confirm_password": "Confirm new password",
    "user_code": "Code",
}


@dataclass(frozen=True)
class Form:
    fields: dict[str, str]

    def text(self, name: str) -> str:
        return self.fields.get(name, "")


async def read_form(request: Request[Any, Any, Any]) -> Form:
    """The first value of each field, as text (file parts and repeats ignored)."""
    fields: dict[str, str] = {}
    for key, value in (await request.form()).multi_items():
        if isinstance(key, str) and isinstance(value, str) and key not in fields:
            fields[key] = value
    return Form(fields)


class FormErrors(dict[str, str]):
    """Messages per field, shown beside the field they concern."""

    def required(self, form: Form, field: str, message: str | None = None) -> str:
        """The field's text, trimmed; an empty one records "<Label> is required"."""
        value = form.text(field).strip()
        if not value:
            self[field] = message or f"{LABELS.get(field, field.capitalize())} is required"
        return value

    def add(self, error: InvalidInput) -> None:
        """The domain's refusal, worded for the field's label ("Name must be …")."""
        label = LABELS.get(error.field, error.field.capitalize())
        self[error.field] = f"{label} {error.message}"

"""Errors of web routes as pages (the API answers JSON; this router answers HTML).

A missing session becomes the sign-in redirect; everything else becomes `error.html`
with the status and a fixed message that never repeats input. A 405 keeps the API's JSON
answer and its `Allow` header: no page links to a wrong method, and one answer for every
path keeps tests/api/test_allow_header.py true across the whole app.
"""

from __future__ import annotations

import logging
import math
import traceback
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException
from litestar.types import ExceptionHandlersMap

from sigillo import metrics
from sigillo.api.errors import EXCEPTION_HANDLERS as API_HANDLERS
from sigillo.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    SigilloError,
    StorageUnavailable,
    Unauthorized,
)
from sigillo.http.forms import FormTooLarge
from sigillo.services.references import BrokenReference
from sigillo.services.sign_in_policy import PolicyRefused
from sigillo.web.pages import redirect, render
from sigillo.web.session import SignInRequired, login_url

__all__ = ["WEB_EXCEPTION_HANDLERS", "error_page"]

log = logging.getLogger("sigillo.web")

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Check your input",
    429: "Too many requests",
    503: "Temporarily unavailable",
}
MESSAGES = {
    400: "The request could not be understood.",
    403: "You are not allowed to do this.",
    404: "This page does not exist, or you do not have access to it.",
    409: "This conflicts with a change made in the meantime. Reload the page and try again.",
    413: "The request is too large.",
    422: "Some of what you entered is not valid.",
    429: "Too many attempts. Wait a minute and try again.",
    503: "The database is busy or unreachable. Try again in a moment.",
}


def error_page(
    request: Request[Any, Any, Any],
    status: int,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    context = {
        "status": status,
        "title": TITLES.get(status, "Something went wrong"),
        "message": message or MESSAGES.get(status, "Something went wrong on our side."),
    }
    return render(request, "error.html", context, status=status, headers=headers)


def _sign_in(
    request: Request[Any, Any, Any], error: SignInRequired | Unauthorized
) -> Response[str]:
    back_to = error.back_to if isinstance(error, SignInRequired) else "/"
    return redirect(request, login_url(back_to))


def _sigillo(request: Request[Any, Any, Any], error: SigilloError) -> Response[str]:
    if isinstance(error, Unauthorized):
        return _sign_in(request, error)
    if isinstance(error, NotFound):
        return error_page(request, 404)
    if isinstance(error, Forbidden):
        # Our own refusals (CSRF, origin) and an org's sign-in policy say what to do;
        # others are the generic 403.
        own = isinstance(error, PolicyRefused) or type(error).__module__.startswith("sigillo.web")
        return error_page(request, 403, str(error) if own else None)
    if isinstance(error, InvalidInput):
        label = error.field.capitalize()
        return error_page(request, 422, f"{label} {error.message}.")
    if isinstance(error, BrokenReference):  # names the reference, never a value
        return error_page(request, 409, f"A reference cannot be resolved: {error}.")
    if isinstance(error, Conflict):
        return error_page(request, 409)
    if isinstance(error, StorageUnavailable):
        metrics.database_error(error)
        return error_page(request, 503)
    log.error("server fault on a page: %s", type(error).__name__)
    return error_page(request, 500)


def _http(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, MethodNotAllowedException):
        return API_HANDLERS[HTTPException](request, error)
    headers = {
        name: value
        for name, value in (error.headers or {}).items()
        if name.lower() == "retry-after"
    }
    status = error.status_code if 400 <= error.status_code < 600 else 500
    message = None
    if isinstance(error, FormTooLarge):  # says which cap: size or number of fields
        message = str(error.detail)
    if status == 429 and headers:
        wait = max(1, math.ceil(float(next(iter(headers.values())))))
        message = f"Too many attempts. Try again in {wait} seconds."
    return error_page(request, status, message, headers)


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[str]:
    # The type and the frames, never the message: a message may quote request data.
    log.error(
        "unhandled %s on a page\n%s",
        type(error).__name__,
        "".join(traceback.format_tb(error.__traceback__)),
    )
    return error_page(request, 500)


WEB_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SignInRequired: _sign_in,
    SigilloError: _sigillo,
    HTTPException: _http,
    Exception: _unexpected,
}

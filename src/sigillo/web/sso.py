"""Single sign-on in the browser (issue 20; services/sso.py decides, this module answers).

* `GET /login/sso/<provider>?redirect=…` stores a sign-in and sends the browser to the
  provider. `login_hint` is passed on (a provider may preselect the account).
* `GET /login/sso/<provider>/callback` takes the provider's answer: a session (or a
  second step: web/challenge.py), or, when a local account has the email, the challenge
  cookie and `/login/link`.
* `GET /login/link` asks for the account's password; `POST /login/link` checks it (with
  sign-in's rate limit and per-account back-off; a wrong one counts against the
  challenge) and links the identity.

Every refusal is a page in words (`auth/sso_error.html`) with a 4xx status, and a provider
that cannot be reached a 502: never a 500. Logs name the provider and the reason, never a
code, a token or a secret.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.types import ControllerRouterHandler

from sigillo import metrics
from sigillo.api.sessions import client_of
from sigillo.domain.errors import TooManyAttempts
from sigillo.http.credentials import credential
from sigillo.services.container import Services
from sigillo.services.sign_ins import Challenge
from sigillo.services.signed_in import SignedInWith
from sigillo.services.sso import LinkNeeded, ProviderRefused, ProviderUnreachable
from sigillo.settings import Settings
from sigillo.web.challenge import after_first_factor, challenge_token, clear_challenge_cookie
from sigillo.web.forms import read_form
from sigillo.web.pages import redirect, render
from sigillo.web.params import PathText
from sigillo.web.session import safe_redirect

__all__ = ["ROUTES"]

log = logging.getLogger("sigillo.sso")

WRONG_PASSWORD = "That password is not right."  # noqa: S105 - a message, not a secret
LINK_GONE = "This sign-in has expired or was already finished. Start again from the sign-in page."
TOO_MANY_WRONG = "Too many wrong passwords. Start again from the sign-in page."
OAUTH_ERRORS = frozenset({
    "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
    "invalid_scope", "server_error", "temporarily_unavailable", "interaction_required",
    "login_required", "account_selection_required", "consent_required",
})  # fmt: skip
PROVIDER_ERRORS = {
    "access_denied": "The sign-in was cancelled or refused at the provider.",
    "login_required": "The provider needs you to sign in there first.",
    "consent_required": "The provider needs your consent first.",
}


def _refused(
    request: Request[Any, Any, Any], provider: str, status: int, message: str
) -> Response[str]:
    context = {"status": status, "provider": provider, "message": message}
    return render(request, "auth/sso_error.html", context, status=status)


def _known(services: Services, name: str) -> str:
    """A provider's name for the logs: only a configured one (the path is anyone's text)."""
    return name if services.sso.provider(name) else "an unknown provider"


def _presented_session(request: Request[Any, Any, Any]) -> str | None:
    found = credential(request)
    return found[0] if found and found[1] == "cookie" else None


def _label(services: Services, name: str) -> str:
    provider = services.sso.provider(name)
    return provider.button.removeprefix("Sign in with ") if provider else name


@get("/login/sso/{provider:str}", name="web:sso-start", opt={"rate_limit": "sign-in"})
async def start(
    request: Request[Any, Any, Any], provider: PathText, services: NamedDependency[Services]
) -> Response[str]:
    params = request.query_params
    target = safe_redirect(params.get("redirect"))
    try:
        url = await services.sso.begin(
            provider,
            origin=str(request.base_url),
            redirect=target,
            login_hint=params.get("login_hint", ""),
        )
    except ProviderRefused as refused:
        return _refused(request, provider, refused.status, refused.reason)
    except ProviderUnreachable as failed:
        log.warning("single sign-on through %s failed: %s", _known(services, provider), failed.what)
        return _unreachable(request, provider, failed)
    return redirect(request, url)


@get("/login/sso/{provider:str}/callback", name="web:sso-callback")
async def callback(
    request: Request[Any, Any, Any],
    provider: PathText,
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
) -> Response[str]:
    params = request.query_params
    error = params.get("error")
    if error:  # the provider's own refusal (RFC 6749 4.1.2.1); its state is left to expire
        named = error if error in OAUTH_ERRORS else "another error"  # logs take no input
        log.info(
            "single sign-on through %s refused by the provider: %s",
            _known(services, provider),
            named,
        )
        message = PROVIDER_ERRORS.get(error, "The provider refused the sign-in.")
        return _refused(request, provider, 400 if error != "access_denied" else 403, message)
    try:
        vouched = await services.sso.vouched(
            provider, origin=str(request.base_url), state=params.get("state", ""),
            code=params.get("code", ""), issuer=params.get("iss"),
        )  # fmt: skip
        found = await services.sso.account(vouched)
    except ProviderRefused as refused:
        logged = "no account, and sign-up is closed" if refused.reason.startswith("No account") \
            else refused.reason  # fmt: skip
        log.warning("single sign-on through %s refused: %s", _known(services, provider), logged)
        return _refused(request, provider, refused.status, refused.reason)
    except ProviderUnreachable as failed:
        log.warning("single sign-on through %s failed: %s", _known(services, provider), failed.what)
        return _unreachable(request, provider, failed)
    ip_address, user_agent = client_of(request)
    target = safe_redirect(vouched.redirect)
    if isinstance(found, LinkNeeded):
        pending = await services.sign_ins.open(
            "link", found.user, ip_address=ip_address, user_agent=user_agent, redirect=target,
            sso_provider=provider, sso_subject=vouched.subject, sso_email=vouched.email,
        )  # fmt: skip
        return after_first_factor(request, settings, pending, target)
    outcome = await services.sign_ins.finish(
        found, SignedInWith(sso_provider=provider), ip_address=ip_address,
        user_agent=user_agent, previous_token=_presented_session(request), redirect=target,
    )  # fmt: skip
    return after_first_factor(request, settings, outcome, target)


async def _link_challenge(request: Request[Any, Any, Any], services: Services) -> Challenge | None:
    token = challenge_token(request)
    return await services.sign_ins.challenge(token, "link") if token else None


def _link_page(
    request: Request[Any, Any, Any], services: Services, challenge: Challenge, error: str = ""
) -> Response[str]:
    context = {
        "email": challenge.sso_email,
        "provider": _label(services, challenge.sso_provider),
        "error": error,
    }
    return render(request, "auth/sso_link.html", context, status=401 if error else 200)


@get("/login/link", name="web:sso-link")
async def link_page(
    request: Request[Any, Any, Any], services: NamedDependency[Services]
) -> Response[str]:
    challenge = await _link_challenge(request, services)
    if challenge is None:
        return _refused(request, "", 400, LINK_GONE)
    return _link_page(request, services, challenge)


@post("/login/link", name="web:sso-link-submit", opt={"rate_limit": "sign-in"}, status_code=200)
async def link(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
    same_origin: NamedDependency[bool],
) -> Response[str]:
    form = await read_form(request)
    challenge = await _link_challenge(request, services)
    if challenge is None:
        return _refused(request, "", 400, LINK_GONE)
    ip_address, user_agent = client_of(request)
    try:
        user = await services.sso.link(challenge, form.text("password"), ip_address=ip_address)
    except TooManyAttempts as backing_off:  # the account's limit, shared with sign-in
        metrics.sign_in_failed(backing_off)
        retry = {"Retry-After": str(backing_off.retry_after)}
        raise TooManyRequestsException("too many requests", headers=retry) from None
    except ProviderRefused as refused:
        return _refused(request, challenge.sso_provider, refused.status, refused.reason)
    if user is None:
        if await services.sign_ins.wrong_answer(challenge) <= 0:
            response = _refused(request, challenge.sso_provider, 401, TOO_MANY_WRONG)
            clear_challenge_cookie(response)
            return response
        return _link_page(request, services, challenge, WRONG_PASSWORD)
    target = safe_redirect(challenge.redirect)
    outcome = await services.sign_ins.finish(
        user, SignedInWith(sso_provider=challenge.sso_provider), ip_address=ip_address,
        user_agent=user_agent, previous_token=_presented_session(request), redirect=target,
    )  # fmt: skip
    return after_first_factor(request, settings, outcome, target)


def _unreachable(
    request: Request[Any, Any, Any], provider: str, failed: ProviderUnreachable
) -> Response[str]:
    message = (
        f"The sign-in provider could not be reached or answered with an error "
        f"({failed.what}). Try again in a moment."
    )
    return _refused(request, provider, 502, message)


ROUTES: list[ControllerRouterHandler] = [start, callback, link_page, link]

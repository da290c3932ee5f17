"""`sigillo orgs sign-in-policy` (issue 20): the real executable against a live server. Each
test makes an org of its own, so the shared org's policy never changes under other tests.
Setting a requirement that needs a second factor or single sign-on is refused for the
sessions made here (password sign-ins); the API tests cover what happens once it is set."""

from __future__ import annotations

import json

from tests.cli.conftest import Sigillo
from tests.cli.test_catalog_cli import assert_one_line_error, assert_usage_error


def own_org(sigillo: Sigillo) -> str:
    _, session = sigillo.server.new_account("policy")
    sigillo.env["SIGILLO_TOKEN"] = session
    with sigillo.server.api(session) as api:
        made = api.post("/api/v0/orgs", json={"name": "Policy Org"})
    assert made.status_code == 200, made.text
    org_id: str = made.json()["id"]
    return org_id


def test_show_the_policy_piped_and_as_json(sigillo: Sigillo) -> None:
    org_id = own_org(sigillo)
    shown = sigillo("orgs", "sign-in-policy", "--org", org_id)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "require_sso: false\nrequire_two_factor: false\n"
    as_json = sigillo("orgs", "sign-in-policy", "--org", org_id, "--json")
    assert json.loads(as_json.stdout) == {"requireSso": False, "requireTwoFactor": False}


def test_a_requirement_the_admin_would_fail_is_refused_in_one_line(sigillo: Sigillo) -> None:
    org_id = own_org(sigillo)
    done = sigillo("orgs", "sign-in-policy", "--org", org_id, "--require-two-factor", "on")
    assert_one_line_error(done, "failed to set the sign-in policy (422)")
    assert "turn on two-factor authentication yourself" in done.stderr
    again = sigillo("orgs", "sign-in-policy", "--org", org_id, "--json")
    assert json.loads(again.stdout)["requireTwoFactor"] is False


def test_setting_what_it_is_succeeds_and_keeps_the_other(sigillo: Sigillo) -> None:
    org_id = own_org(sigillo)
    done = sigillo("orgs", "sign-in-policy", "--org", org_id, "--require-sso", "off")
    assert done.returncode == 0, done.stderr
    assert "require_two_factor: false" in done.stdout


def test_strangers_and_bad_flags(sigillo: Sigillo) -> None:
    org_id = own_org(sigillo)
    own_org(sigillo)  # someone else now
    stranger = sigillo("orgs", "sign-in-policy", "--org", org_id)
    assert_one_line_error(stranger, "failed to read the sign-in policy (403)")
    assert_usage_error(sigillo("orgs", "sign-in-policy"), "--org")
    wrong = sigillo("orgs", "sign-in-policy", "--org", org_id, "--require-sso", "yes")
    assert wrong.returncode == 2
    assert "invalid choice" in wrong.stderr

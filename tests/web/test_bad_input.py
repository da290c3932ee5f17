"""Malformed and oversized form input gets a clear 4xx page, never a 500, and nothing
submitted comes back unescaped."""

from __future__ import annotations

import pytest

from sigillo.api.ratelimit import LIMITS, Budget, RateLimits
from tests.web.conftest import PASSWORD, Web, location, org_with_project, text_of

pytestmark = pytest.mark.asyncio

MEGABYTE = "x" * 1_000_000


async def test_a_one_megabyte_name_is_refused_with_a_message(web: Web) -> None:
    browser = await web.signed_in()
    org = await web.services.catalog.create_org("Acme", browser.actor)
    for url in ("/dash/new-org", f"/dash/orgs/{org.id}/new-project"):
        answer = await browser.post(url, {"name": MEGABYTE})
        assert answer.status_code == 422, url
        assert "must be 1-100 characters" in text_of(answer.text)
        assert MEGABYTE not in answer.text
    assert [o.name for o, _ in await web.services.access.orgs_of(browser.actor)] == ["Acme"]


async def test_oversized_credentials_and_codes(web: Web) -> None:
    web.app.state.rate_limits = RateLimits(limits={n: Budget(10**9, 1) for n in LIMITS})
    browser = web.browser()
    login = await browser.post("/login", {"email": MEGABYTE, "password": MEGABYTE})
    assert login.status_code == 401
    assert MEGABYTE not in login.text
    token = await web.services.accounts.issue_setup_token()
    assert token is not None
    setup = await browser.post(
        "/setup", {"token": token, "name": MEGABYTE, "email": MEGABYTE, "password": MEGABYTE}
    )
    assert setup.status_code == 422
    assert MEGABYTE not in setup.text
    signed = await web.signed_in()
    device = await signed.get("/device", params={"user_code": MEGABYTE[:4000], "step": "confirm"})
    assert device.status_code == 400
    approve = await signed.post("/device/approve", {"user_code": MEGABYTE})
    assert approve.status_code == 400


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"name=%ff%fe%00&name=again"),
        ("application/x-www-form-urlencoded", b"%zz=%zz&&&=&name"),
        ("application/json", b'{"name": "json"}'),
        ("text/plain", b"name=plain"),
        ("multipart/form-data", b"--x\r\nbroken"),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="name"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nfile body\r\n--x--\r\n",
        ),
    ],
)
async def test_malformed_bodies_get_a_4xx(web: Web, content_type: str, body: bytes) -> None:
    browser = await web.signed_in()
    answer = await browser.client.post(
        "/dash/new-org",
        content=body,
        headers={"Content-Type": content_type, "X-CSRF-Token": browser.csrf},
    )
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert await web.services.access.orgs_of(browser.actor) == []


async def test_raw_bytes_that_are_not_utf8_are_read_as_latin_1_text(web: Web) -> None:
    """Browsers percent-encode; a raw byte above 0x7f reads as its Latin-1 character, a
    valid (if odd) name, rendered escaped: nothing fails."""
    browser = await web.signed_in()
    answer = await browser.client.post(
        "/dash/new-org",
        content=b"name=\xff\xfe",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRF-Token": browser.csrf,
        },
    )
    assert answer.status_code == 303
    assert [o.name for o, _ in await web.services.access.orgs_of(browser.actor)] == ["ÿþ"]


async def test_control_characters_in_names_are_refused(web: Web) -> None:
    browser = await web.signed_in()
    for name in ("a\x00b", "tab\there", "bell\x07", "\u202eevil"):
        answer = await browser.post("/dash/new-org", {"name": name})
        assert answer.status_code in (303, 422), repr(name)
    names = [o.name for o, _ in await web.services.access.orgs_of(browser.actor)]
    assert names == ["\u202eevil"]  # printable, if mischievous: kept, and escaped when shown


async def test_weird_path_values_are_404_pages(web: Web) -> None:
    browser = await web.signed_in()
    for url in (
        "/dash/orgs/%00",
        "/dash/orgs/..%2F..%2Fetc",
        "/dash/projects/" + "x" * 3000,
        "/dash/projects/%E2%80%AE/envs/dev",
        "/dash/projects/x/envs/%00",
        "/invite/%00",
    ):
        answer = await browser.get(url)
        assert answer.status_code in (400, 404), (url, answer.status_code)
        if "%2F" not in url:  # a decoded slash matches no page: the app's JSON 404
            assert answer.headers["content-type"].startswith("text/html"), url


async def test_sign_up_with_a_bad_email_or_short_password(web: Web) -> None:
    admin = await web.signed_in()
    org = await web.services.catalog.create_org("Acme", admin.actor)
    _, invite = await web.services.access.create_invitation(org.id, admin.actor)
    visitor = web.browser()
    bad = await visitor.post(
        f"/invite/{invite}/sign-up", {"name": "Mo", "email": "not-an-email", "password": PASSWORD}
    )
    assert bad.status_code == 422
    assert "Email must be an email address" in text_of(bad.text)
    short = await visitor.post(
        f"/invite/{invite}/sign-up", {"name": "Mo", "email": "mo@example.com", "password": "x"}
    )
    assert short.status_code == 422
    assert "Password must be at least 12 characters" in text_of(short.text)
    good = await visitor.post(
        f"/invite/{invite}/sign-up", {"name": "Mo", "email": "mo@example.com", "password": PASSWORD}
    )
    assert location(good) == f"/dash/orgs/{org.id}"


async def test_malformed_or_oversized_kind_input_gets_a_4xx(web: Web) -> None:
    """Kinds [D18] come from the kind buttons, the selection boxes, the new rows' "plain"
    box and the import's boxes: whatever arrives instead is a clear 4xx, nothing changes."""
    browser = await web.signed_in()
    _, project_id = await org_with_project(web, browser)
    [dev, *_] = await web.services.catalog.environments(project_id)
    await web.services.secrets.set(dev.id, {"A": "1"}, browser.actor)
    tab = f"/dash/projects/{project_id}/envs/{dev.slug}"
    huge = b"x" * 1_000_000
    attempts = [
        ("kinds", b"plain=%ff%fe%00"),
        ("kinds", b"secret=A%00"),
        ("kinds", b"mark=%00&sel=A"),
        ("kinds", b"mark=" + huge + b"&sel=A"),
        ("kinds", b"mark=plain&sel=" + huge),
        ("kinds", b"%zz=%zz&plain"),
        ("kinds", b"plain=A&secret=A"),
        ("kinds", b"mark=secret&mark=plain&sel=A"),
        ("save", b"nk0=B&nv0=1&np0=" + huge),
        ("save", b"nk0=B&nv0=1&np0=%00"),
        ("save", b"nk0=B&nv0=1&np0=PLAIN"),
        ("import", b"text=B%3D1&plain=%ff"),
        ("import", b"text=B%3D1&plain=" + huge),
    ]
    for action, body in attempts:
        for headers in ({}, {"HX-Request": "true"}):
            answer = await browser.client.post(
                f"{tab}/{action}",
                content=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRF-Token": browser.csrf,
                    **headers,
                },
            )
            assert 400 <= answer.status_code < 500, (action, body[:40], answer.status_code)
            assert answer.headers["content-type"].startswith("text/html")
            assert huge[:1000] not in answer.content
    for content_type, body in [
        ("application/json", b'{"plain": "A"}'),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
        ("text/plain", b"plain=A"),
    ]:
        answer = await browser.client.post(
            f"{tab}/kinds",
            content=body,
            headers={"Content-Type": content_type, "X-CSRF-Token": browser.csrf},
        )
        assert 400 <= answer.status_code < 500, (content_type, answer.status_code)
    rows = await web.services.secrets.current(dev.id)
    assert [(row.name, row.kind) for row in rows] == [("A", "secret")]

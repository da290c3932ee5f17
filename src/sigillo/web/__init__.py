"""The dashboard: server-rendered pages and htmx fragments over services.

How it fits together (docs/dashboard.md says it for users and operators):

* `routes.py` — `WEB_ROUTES`, which `server.create_app` mounts next to the API: a router
  for every page (HTML error pages, security headers, the CSRF guard, the `viewer`,
  `maybe_viewer` and `same_origin` dependencies, nothing in the OpenAPI document) and the
  static files at `/static` (cached for a year; URLs carry the file's digest).
* `pages.py` — `render(request, template, context)`, the one helper that answers a full
  page, or to an htmx request only the template's `main` block (`fragment=` names
  another); always `Vary: HX-Request` and `Cache-Control: no-store`. `redirect(request,
  url)`: 303, or `HX-Redirect` for htmx. `SecurityHeaders`: the strict CSP (no inline
  script, style or handler anywhere), nosniff, `Referrer-Policy: same-origin`, no framing.
* `session.py` — `Viewer` (the signed-in user and their CSRF token, from the same
  server-side session as the API, checked on every request); no session → `303
  /login?redirect=<path>`; `safe_redirect` (behaviour.md 14.2); the session cookie.
* `csrf.py` — every unsafe request with the session cookie needs the session's token
  (form field `csrf`, which `{{ csrf_field() }}` renders, or header `X-CSRF-Token`, which
  htmx sends from `hx-headers` on `<body>`). Forms used before sign-in take the
  `same_origin` dependency instead. GET never changes state.
* `forms.py` — read a form as text (`read_form`) and collect messages per field
  (`FormErrors`). `errors.py` — errors as pages (a 405 stays JSON, as the API's).
* `engine.py` — the Jinja environment (autoescape on, undefined names are errors) and
  template helpers: `static('app.css')`, filters `relative_time`, `iso_time`,
  `exact_time`, `initials`, and the global macros `field(...)` and `timestamp(ms)`.
* Pages: `signin.py` (`/`, `/login`, `/logout`), `setup.py` (first run), `invite.py`,
  `device.py` (the consent screen of the device login), `account.py` (the Sessions page
  and the password form), `dash.py` (`/dash`, orgs, new
  projects), `layout.py` (the sidebar), `project.py` (the project shell and its six tabs),
  `tabs/<tab>.py` (one module per tab, with its template `templates/project/<tab>.html`).

Adding to it:

1. A page or endpoint is a Litestar handler that takes `viewer: NamedDependency[Viewer]`
   (or `maybe_viewer`), decides access through services (`services.access.project_for`,
   `require_admin`, …; never in a template), and answers with `render` or `redirect`.
   Another tenant's object is the same `NotFound` as a missing one (a 404 page).
2. Add its handlers to the `ROUTES` of its module (a tab's: `tabs/<tab>.py`; those are
   mounted already) or, for a new module, to `PAGE_ROUTES` in `routes.py`; then add each
   route to the policy table of tests/web/test_web_access.py (the test fails until then).
3. A template extends `base.html` (or `dash.html`, which needs `sidebar`, or
   `project/shell.html`, which `project.render_tab` fills) and puts its content in the
   block `main` (a tab: `tab`); that block is what an htmx request gets, so top-level
   `{% set %}` or `{% from … import %}` do not run for it: import inside the block.
   A fragment endpoint renders a template that extends nothing; it is answered whole.
4. Unsafe actions are POST forms with `{{ csrf_field() }}` (or `hx-post`, which sends the
   header). Behaviour goes into `static/app.js` through data- attributes (see its header:
   `data-copy`, `data-dialog-open`, `data-confirm`, `data-busy-label`, …), looks into
   `static/app.css`. No inline code: the CSP blocks it, and tests/web/test_pages.py
   looks for it on every page.
5. Secret values reach a page only after an explicit reveal, one value per request,
   recorded in the audit log [D5, D16]. The one exception is by design: values a person
   marked `plain` (configuration) are shown in the Secrets tab's table as they are [D18].
"""

"""HTTP concerns the JSON API (sigillo.api) and the dashboard (sigillo.web) share.

One responsibility per module, none of them importing store or crypto:

* `served.py` — how this server is reached: its settings (from the app's state), whether
  it is served over HTTPS, the host names that are its own.
* `credentials.py` — the caller's credential (`Authorization: Bearer` or the session
  cookie, under the one name this server sets) and the session cookie itself.
* `csrf.py` — the CSRF token of a session and its constant-time check.
* `origin.py` — who sent a request: same-origin, cross-site, or not a browser at all;
  the guards that refuse cross-site sign-ins and cross-site reads of values.
* `media.py` — request bodies of JSON endpoints must say `application/json` (415).
* `forms.py` — dashboard form bodies: size and field caps (413), read once, parsed in a
  worker thread, cached for the handler.
"""

"""``portal view``: the person's single view of their store, as a local web app.

Read-only and local: it serves on 127.0.0.1 only, opens the store read-only (SQLite itself
refuses a write), and answers only the browser that opened the URL with the per-run secret
(``portal.view.guard``). Pages are Jinja2 templates with autoescaping; everything a page
needs (style sheets, scripts) ships in this package, so a page works with no network and
tells no third party what the person is looking at.

- ``guard``: the envelope every request passes (secret, Host, method, security headers).
- ``pages``: the WSGI app: routes, templates, static assets.
- ``overview``: what the Overview page says, from the store's own queries.
- ``server``: serving the app on 127.0.0.1 until stopped.
- ``report``, ``sections``, ``narrowed``: the same pages as one static file
  (``portal report``), each page a section, over a store narrowed as asked.
"""

from portal.view.server import ViewServer

__all__ = ["ViewServer"]

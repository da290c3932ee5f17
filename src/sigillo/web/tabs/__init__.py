"""The six tabs of a project page, one module each (and one template each,
`templates/project/<tab>.html`), so that each tab can grow on its own.

A tab module holds the tab's GET handler and, as the tab grows, its fragment endpoints
(reveal, save, …), all listed in its `ROUTES`, which `sigillo.web.routes` mounts. See
`sigillo.web.project` for the shell every tab renders into.
"""

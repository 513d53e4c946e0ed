"""smsactive: the `smsd` command (Click). Parses, calls `smsd`/`store`, formats; nothing else.

One module per top-level command, named after it and defining it under that name
(`cli/send.py` defines `send`); `cli.main` maps names to modules and imports a command only
when it runs (`cli.lazy`). Shared leaf modules: `context` (typed `Context`, `command_edge`,
exit codes), `prompts` (passwords), `operator` (who is at the terminal, private files),
`lookup` (numbers and people from what the operator typed), `filters` (history filters),
`output` (tables and JSON), `session` (the Click-free `Context`). No module here imports
`cli.main`. The console script is `cli.entry:main`: a plain `smsd send` runs on its quick
path (`quicksend`, `queueing`) without importing Click; every other line goes to `cli.main`.
"""

__all__: list[str] = []

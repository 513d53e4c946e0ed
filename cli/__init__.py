"""smsactive: the `smsd` command (Click). Parses, calls `smsd`/`store`, formats; nothing else.

One module per top-level command, named after it and defining it under that name
(`cli/send.py` defines `send`); `cli.main` maps names to modules and imports a command only
when it runs (`cli.lazy`). Shared leaf modules: `context` (typed `Context`, `command_edge`,
exit codes), `prompts` (passwords), `operator` (who is at the terminal, private files),
`lookup` (numbers and people from what the operator typed), `filters` (history filters),
`output` (tables and JSON). No module here imports `cli.main`.
"""

__all__ = ["main"]

from cli.main import main

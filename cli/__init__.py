"""smsactive: the `smsd` command (Click). Parses, calls `smsd`/`store`, formats; nothing else."""

__all__ = ["main"]

from cli.main import main

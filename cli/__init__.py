"""smsactive: the `cli` layer (see docs/ARCHITECTURE.md)."""

__all__: list[str] = []

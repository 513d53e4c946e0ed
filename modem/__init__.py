"""smsactive: the `modem` layer (see docs/ARCHITECTURE.md)."""

__all__: list[str] = []

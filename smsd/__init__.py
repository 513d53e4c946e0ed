"""smsactive: the `smsd` layer (see docs/ARCHITECTURE.md)."""

__all__: list[str] = []

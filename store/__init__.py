"""smsactive: the `store` layer (see docs/ARCHITECTURE.md)."""

__all__: list[str] = []

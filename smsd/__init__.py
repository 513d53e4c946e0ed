"""smsactive: the `smsd` layer (see docs/ARCHITECTURE.md).

Configuration, the pure router, the pipeline that joins it to the store, and the daemon
(workers, ingest, sender, sd_notify, logs). Imports `modem` and `store`, never `cli`.
"""

from smsd.errors import ConfigError, DaemonError, SmsdError

__all__ = ["ConfigError", "DaemonError", "SmsdError"]

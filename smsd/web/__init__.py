"""smsd web: the portal."""

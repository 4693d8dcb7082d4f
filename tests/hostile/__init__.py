"""Herald against hostile servers: every channel type in every failure mode (issue 8)."""

"""LinkedIn: an article post through the versioned Posts API (adapter), its commentary edited,
commented on and deleted afterwards (lifecycle)."""

from bot.channels.linkedin.adapter import (
    LinkedInOptions,
    default_version,
    escape_little,
    to_commentary,
)
from bot.channels.linkedin.lifecycle import LinkedInChannel

CHANNEL = LinkedInChannel  # this package is the `linkedin` type (see channels/registry.py)

__all__ = [
    "CHANNEL",
    "LinkedInChannel",
    "LinkedInOptions",
    "default_version",
    "escape_little",
    "to_commentary",
]

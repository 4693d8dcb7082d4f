"""Herald: Markdown articles to RSS/Atom/JSON feeds and social posts, never twice, never lost."""

__version__ = "0.1.0"

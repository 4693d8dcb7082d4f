"""Loopback emulators of the social networks' APIs. They import nothing from `bot`."""

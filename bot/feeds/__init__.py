"""The feeds: build (what goes in, skipped when nothing changed), render (RSS, Atom, JSON Feed,
stylesheet), files (atomic writes), websub (hub pings)."""

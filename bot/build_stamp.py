"""The record of the last complete `build`, and the quick check that nothing it read changed.

A `build` reads the config files and the environment, the content folder, the sent-log (for
syndication.json) and the clock (an article dated later comes out by itself). When none of
these changed since the last complete build and its feed files are as it left them, the feeds
are still right: `herald build` then prints what that build printed, without loading the
config models, the store or the article reader (what a CI job pays on every push).

What is compared, cheapest first: the record's age (at most `MAX_AGE`, and never past the next
article's publication); each config file's bytes; the environment values the config can take
(`bot.config_inputs.env_inputs`); the content folder's modification time (a file added or
removed at its top); the feed files' size and modification time; the SQLite file (device,
inode) and its sent-log; then the walk of the content folder, each file's (path, size,
modification time), as the metadata cache compares them (`bot.content.survey.Listing`).

When the content changed but the configuration did not, a build still need not validate the
configuration again: beside the record, each build that validated it keeps what it read of it
(`bot.build_config.BuildConfig`: the site, the folders, the feed settings, each channel's name
and network, a digest of all settings) with the digests of the config files and of the
environment values they can take, and the warnings it logged. The next build reads that back
when the digests are the same and it is less than `MAX_AGE` old (`recall_config`), so it loads
neither pydantic nor the channel models.

Both are JSON files in the user's cache folder (`$XDG_CACHE_HOME/herald/builds`, else
`~/.cache/herald/builds`), one pair per bot.yaml and working folder, readable by their owner
only; they hold digests and the values above, never a secret. Only a SQLite database is
checked this way (PostgreSQL would need its driver, the cost this avoids; its URL can hold a
password). `build --force` ignores both; every full build replaces the record, or removes it
when it does not finish.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import __version__
from bot.build_config import BuildConfig
from bot.config_inputs import env_inputs
from bot.content import survey, walk
from bot.store import sent_state

log = logging.getLogger("herald.build")

FORMAT = 1
MAX_AGE = 3600.0  # seconds: past this, a full build looks again whatever the record says


@dataclass
class Inputs:
    """What a build is about to read, taken before it reads it: a change made while it runs
    then shows at the next check."""

    config: dict[str, str]  # each config file -> digest of its bytes ("" when it is missing)
    env: str  # digest of the environment values the config files can take
    database: list[Any]  # the SQLite file: [path, device, inode]
    sent: str  # the sent-log's state
    content: str  # the content folder
    content_mtime: int


@dataclass
class Replay:
    """What the last complete build printed, to print again."""

    warnings: list[str] = field(default_factory=list)  # config warnings it logged
    problems: list[str] = field(default_factory=list)  # `path:line: severity: field: message`
    lines: list[str] = field(default_factory=list)  # the summary lines


def record_file(config: Path, cwd: str, env: Mapping[str, str]) -> Path | None:
    """Where the record of builds with this bot.yaml, run from `cwd`, is kept; None when
    there is no cache folder (no absolute $XDG_CACHE_HOME nor home folder: a relative one is
    ignored, as the XDG base directory specification says)."""
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):
            return None
    key = hashlib.sha256(f"{config}\0{cwd}".encode()).hexdigest()[:32]
    return Path(base) / "herald" / "builds" / f"{key}.json"


def inputs_now(
    config_files: Sequence[Path], database: Path, content: Path, env: Mapping[str, str]
) -> Inputs | None:
    """The inputs as they are now; None when they cannot be taken (no database file yet, a
    content folder that does not exist): such a build is not recorded."""
    texts: list[str] = []
    digests = {str(p): _file_digest(p, texts) for p in config_files}
    try:
        db = database.resolve()
        st = db.stat()
        content_mtime = content.stat().st_mtime_ns
    except OSError:
        return None
    sent = sent_state.read_sqlite(db)
    if sent is None:
        return None
    return Inputs(
        config=digests,
        env=_env_digest(texts, env),
        database=[str(db), st.st_dev, st.st_ino],
        sent=sent,
        content=str(content),
        content_mtime=content_mtime,
    )


def record(
    where: Path,
    inputs: Inputs,
    listing: survey.Listing,
    *,
    feeds: Path,
    valid_until: float,
    replay: Replay,
) -> None:
    """Keep what a complete build read (`inputs`, taken before it ran, and the `listing` its
    scan made) and printed; the feed files are taken as they are now, as it left them. A
    record that cannot be written is no error: the next build is a full one, as before."""
    try:
        files = {}
        with os.scandir(feeds) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    files[entry.name] = [st.st_size, st.st_mtime_ns]
    except OSError as e:
        log.debug("build record not kept: %s", e.strerror or e)
        return
    data = {
        "format": FORMAT,
        "herald": __version__,
        "inputs": asdict(inputs),
        "listing": listing.hexdigest(),
        "feeds": {"dir": str(feeds), "files": files},
        "valid_until": valid_until,
        "replay": asdict(replay),
    }
    _write(where, data)


def remember_config(
    where: Path,
    config_files: Sequence[Path],
    env: Mapping[str, str],
    config: BuildConfig,
    *,
    warnings: Sequence[str],
    required: bool,
    now: float,
) -> None:
    """Keep what a build read of the configuration it has just validated, beside the build
    record (`where`): the next build with the same config files and environment reads it back
    (`recall_config`) instead of validating them again."""
    texts: list[str] = []
    data = {
        "format": FORMAT,
        "herald": __version__,
        "config": {str(p): _file_digest(p, texts) for p in config_files},
        "env": _env_digest(texts, env),
        "required": required,
        "validated_at": now,
        "warnings": list(warnings),
        "values": config.to_record(),
    }
    _write(_config_file(where), data)


def recall_config(
    where: Path, env: Mapping[str, str], now: float, *, required: bool
) -> tuple[BuildConfig, list[str]] | None:
    """What the last build read of the configuration, and the warnings it logged, when the
    config files and the environment are as they were then and that was less than `MAX_AGE`
    ago (a warning can depend on the date); else None, and the configuration is loaded."""
    try:
        data = json.loads(_config_file(where).read_bytes())
        if data.get("format") != FORMAT or data.get("herald") != __version__:
            return None
        if data["required"] is not required or not 0 <= now - data["validated_at"] < MAX_AGE:
            return None
        if not _same_config(data["config"], data["env"], env):
            return None
        warnings = data["warnings"]
        if not all(isinstance(w, str) for w in warnings):
            return None
        return BuildConfig.from_record(data["values"]), warnings
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # none kept, or one that cannot be read: the configuration is loaded


def _config_file(where: Path) -> Path:
    return where.with_name(where.stem + ".config.json")


def _write(where: Path, data: Mapping[str, Any]) -> None:
    """`data` as JSON in `where`, replaced at once, readable by its owner only; a file that
    cannot be written is no error (it is an optimisation)."""
    import tempfile  # only a build that did work writes its record

    tmp: str | None = None
    try:
        where.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=where.parent, prefix=".build-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, where)
        tmp = None
    except OSError as e:
        log.debug("build record not kept in %s: %s", where.parent, e.strerror or e)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def forget(where: Path) -> None:
    with contextlib.suppress(OSError):
        where.unlink(missing_ok=True)


def replay(where: Path, env: Mapping[str, str], now: float) -> Replay | None:
    """The last complete build's output when nothing it read has changed since; else None
    (and a full build is needed)."""
    try:
        data = json.loads(where.read_bytes())
        if data.get("format") != FORMAT or data.get("herald") != __version__:
            return None
        if not now < float(data["valid_until"]):
            return None
        was = Inputs(**data["inputs"])
        if not _same_inputs(was, env):
            return None
        if not _same_feeds(data["feeds"]):
            return None
        rules = _walk_rules(Path(was.content))
        listing = survey.listing(rules)
        if listing is None or listing.hexdigest() != data["listing"]:
            return None
        return Replay(**data["replay"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # no record, or one that cannot be read: a full build


def _same_config(digests: Mapping[str, str], env_digest: str, env: Mapping[str, str]) -> bool:
    """True when each config file and the environment values they can take are as digested."""
    texts: list[str] = []
    if any(_file_digest(Path(p), texts) != d for p, d in digests.items()):
        return False
    return _env_digest(texts, env) == env_digest


def _same_inputs(was: Inputs, env: Mapping[str, str]) -> bool:
    if not _same_config(was.config, was.env, env):
        return False
    if os.stat(was.content).st_mtime_ns != was.content_mtime:
        return False
    path, device, inode = was.database
    st = os.stat(path)
    if (st.st_dev, st.st_ino) != (device, inode):
        return False
    return sent_state.read_sqlite(Path(path)) == was.sent


def _same_feeds(feeds: Mapping[str, Any]) -> bool:
    folder = Path(feeds["dir"])
    for name, (size, mtime_ns) in feeds["files"].items():
        st = (folder / name).stat()
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            return False
    return bool(feeds["files"])


def _walk_rules(root: Path) -> walk.ContentRules:
    """Rules for the walk alone: it uses only the root (the other fields are how articles are
    read, which a walk does not do)."""
    return walk.ContentRules(root=root, site_url="", timezone=ZoneInfo("UTC"), permalink="")


def _file_digest(path: Path, texts: list[str]) -> str:
    """Digest of a config file's bytes ("" when it does not exist); its text is appended to
    `texts` (for the `${VAR}` it names)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ""
    texts.append(raw.decode("utf-8", "replace"))
    return hashlib.sha256(raw).hexdigest()


def _env_digest(texts: Sequence[str], env: Mapping[str, str]) -> str:
    h = hashlib.sha256()
    for name, value in env_inputs(texts, env):
        h.update(name.encode())
        h.update(b"\1" if value is None else b"\2" + value.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    return h.hexdigest()

"""A cache on disk of what was parsed from a file, keyed by the file's content.

Reading the national pack's YAML was most of ``Engine.load()``; the files rarely change between
two runs. So the YAML reader (:mod:`welfare_rules._yaml`) keeps what it made of a file — the data
and the position of every value, as plain JSON — in the user's cache directory, and reads it back
when the same text is read from the same path again. This module is only the storage; the
reader encodes and decodes its own values and refuses anything it could not have produced.

What is trusted, and why it is safe (docs/security.md "Parse cache"):

* **The key** is a SHA-256 of the reader's *tag* (its own source code, this module's, PyYAML's
  version and a format number: any change of the code that produced an entry makes it
  unreachable), the file's path as given and its whole text. A changed file is a new key: an
  entry is never stale.
* **An entry** is JSON (never pickle or marshal: reading it cannot run code): a first line with
  its key and the SHA-256 of the body, then the body. An entry whose key or digest does not
  match (truncated, copied over another, edited) is ignored and replaced, and the reader
  decodes only what its own encoder writes (values within the bounds it checks when parsing).
* **Who wrote it:** on POSIX an entry (and the directory) must belong to the current user and
  must not be writable by group or others, or it is ignored — only the user could have written
  it, as only the user can change their own rule files.
* Any failure to read or write the cache is a miss: the file is parsed as without a cache.

``WELFARE_RULES_CACHE=off`` (or ``0``, ``no``, ``false``) turns the cache off;
``WELFARE_RULES_CACHE_DIR`` chooses its directory (default: the platform's user cache directory,
``platformdirs.user_cache_dir("welfare-rules")``, subdirectory ``parsed``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["CACHE_DIR_ENV", "CACHE_ENV", "MAX_ENTRIES", "cache_dir", "fetch", "store"]

#: Set to ``off``/``0``/``no``/``false`` to read every file afresh.
CACHE_ENV = "WELFARE_RULES_CACHE"
#: The directory of the cache (default: the user cache directory of the platform).
CACHE_DIR_ENV = "WELFARE_RULES_CACHE_DIR"
#: Entries kept; past this the oldest quarter is removed when a new one is written.
MAX_ENTRIES = 2000

_OFF = frozenset({"off", "0", "no", "false"})
_FORMAT = 1


def cache_dir() -> Path | None:
    """The cache directory, or None when the cache is turned off."""
    if os.environ.get(CACHE_ENV, "").strip().lower() in _OFF:
        return None
    chosen = os.environ.get(CACHE_DIR_ENV)
    if chosen:
        return Path(chosen)
    return _default_dir(os.environ.get("XDG_CACHE_HOME"), os.environ.get("HOME"))


@functools.lru_cache(maxsize=4)
def _default_dir(xdg: str | None, home: str | None) -> Path:
    """The platform's user cache directory (once per process and environment: asking
    platformdirs for it was a tenth of loading the national pack)."""
    import platformdirs  # only when the cache is used: it is not needed to evaluate

    return Path(platformdirs.user_cache_dir("welfare-rules")) / "parsed"


def _key(tag: str, path: str, text: str) -> str:
    h = hashlib.sha256()
    for part in (str(_FORMAT), tag, path):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _owned(st: os.stat_result) -> bool:
    """Only the current user could have written it (always true where there are no uids)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # pragma: no cover - Windows: the user's profile is private already
        return True
    return st.st_uid == getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def fetch(tag: str, path: str, text: str) -> Any:
    """The body stored for (``tag``, ``path``, ``text``), or None (no entry, cache off, or an
    entry that is not trusted)."""
    root = cache_dir()
    if root is None:
        return None
    key = _key(tag, path, text)
    try:
        with open(root / key[:2] / f"{key}.json", "rb") as fh:
            if not (_owned(os.fstat(fh.fileno())) and _owned(os.stat(root))):
                return None
            raw = fh.read()
        head, sep, body = raw.partition(b"\n")
        header = json.loads(head)
        if (not sep or not isinstance(header, dict) or header.get("key") != key
                or header.get("sha256") != hashlib.sha256(body).hexdigest()):
            return None
        return json.loads(body)
    except (OSError, ValueError, RecursionError):
        return None


def store(tag: str, path: str, text: str, body: Any) -> None:
    """Keep ``body`` (JSON-able) for (``tag``, ``path``, ``text``); failures are ignored."""
    root = cache_dir()
    if root is None:
        return
    key = _key(tag, path, text)
    try:
        data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode(
            "utf-8", "surrogatepass")
        header = json.dumps({"key": key, "sha256": hashlib.sha256(data).hexdigest()})
        entry = header.encode("ascii") + b"\n" + data
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _owned(os.stat(root)):
            return
        sub = root / key[:2]
        sub.mkdir(exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=sub, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(entry)
            os.replace(tmp, sub / f"{key}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(root)
    except (OSError, ValueError, TypeError, RecursionError):
        return


def _prune(root: Path) -> None:
    entries = list(root.glob("??/*.json"))
    if len(entries) <= MAX_ENTRIES:
        return
    by_age = sorted(entries, key=lambda p: p.stat().st_mtime)
    for p in by_age[: len(entries) // 4]:
        p.unlink(missing_ok=True)

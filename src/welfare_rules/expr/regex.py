"""The rule language's regular expressions: RE2 syntax, linear-time matching, one meaning.

``matches(text, pattern)`` takes a literal pattern in RE2 syntax
(https://github.com/google/re2/wiki/Syntax), checked when the rule file is loaded: an invalid
pattern, or one using what RE2 leaves out because it cannot be matched in linear time
(backreferences, look-ahead and look-behind), is a located error. Matching takes time linear in
the text on every backend — the Python backend uses google-re2, DuckDB uses RE2 itself — so a
pattern like ``(a+)+$`` cannot hang an evaluation.

The dialect is the same on every backend: ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII
(``\\w`` is ``[0-9A-Za-z_]``; a letter like ``é`` is not a word character anywhere), ``.``
does not match a newline, and the whole text must match. Spark runs Java regular expressions;
its compiler rewrites ``\\s``/``\\S`` to RE2's class, which Java's differs from by the
vertical tab.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import re2

__all__ = ["MATCHER_MEMORY", "MAX_PATTERN_MEMORY", "PatternError", "compile_pattern",
           "full_match", "java_pattern", "matcher"]

#: The memory RE2 may use for one compiled pattern (bytes); a pattern needing more is refused.
MAX_PATTERN_MEMORY = 8 << 20


class PatternError(ValueError):
    """A pattern is not a valid RE2 regular expression (the message says why)."""


_cache: dict[str, Any] = {}
_lock = threading.Lock()


def _options() -> Any:
    opts = re2.Options()
    opts.log_errors = False
    opts.max_mem = MAX_PATTERN_MEMORY
    return opts


def compile_pattern(pattern: str) -> Any:
    """Compile ``pattern`` with RE2 (cached); raise :class:`PatternError` if it is invalid.

    Returns:
        A compiled google-re2 pattern (its ``fullmatch`` matches in linear time).
    """
    rx = _cache.get(pattern)
    if rx is not None:
        return rx
    try:
        rx = re2.compile(pattern, options=_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"invalid regular expression {pattern!r}: {reason} (the rule "
                           "language uses RE2 syntax: no backreferences or look-arounds)"
                           ) from None
    with _lock:
        _cache[pattern] = rx
    return rx


#: How many texts one :func:`matcher` remembers the answer for (least recently used dropped).
MATCHER_MEMORY = 4096

_matchers: dict[str, Callable[[str], bool]] = {}


def matcher(pattern: str) -> Callable[[str], bool]:
    """``text -> whether the whole of it matches pattern`` (RE2, linear time), remembering
    the last :data:`MATCHER_MEMORY` answers. A call into google-re2 costs far more than the
    lookup, and the same texts are matched again and again: settling one household re-runs
    its rules once per completion of its blanks with every NIK unchanged (review3 F7: more
    than half of the time was ``matches(nik, "[0-9]{16}")``). The answers stay in memory only.

    Raises:
        PatternError: ``pattern`` is not a valid RE2 regular expression.
    """
    found = _matchers.get(pattern)
    if found is not None:
        return found
    rx = compile_pattern(pattern)

    @functools.lru_cache(maxsize=MATCHER_MEMORY)
    def match(text: str) -> bool:
        return rx.fullmatch(text) is not None

    with _lock:
        return _matchers.setdefault(pattern, match)


def full_match(text: str, pattern: str) -> bool:
    """Whether the whole of ``text`` matches ``pattern`` (RE2, linear time)."""
    return compile_pattern(pattern).fullmatch(text) is not None


def java_pattern(pattern: str) -> str:
    """``pattern`` rewritten for Java's regex engine with RE2's meaning (Spark): ``\\s`` and
    ``\\S`` as RE2's ASCII class, ``.`` matching all but ``\\n`` (Java's UNIX_LINES, ``(?d)``:
    otherwise ``.`` misses ``\\r``, U+0085 and the Unicode line separators, which RE2 matches),
    the whole text anchored."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append("[\\t\\n\\f\\r ]")
            elif nxt == "S":
                out.append("[^\\t\\n\\f\\r ]")
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "(?d)^(?:" + "".join(out) + ")\\z"

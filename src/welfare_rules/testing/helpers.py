"""Testing helpers for rule and plugin authors: load a plugin for one test, build records, assert
a decision with a readable message.

They are ordinary functions (no pytest import), so they work in pytest, unittest or a notebook::

    from welfare_rules.testing import assert_decision, household, person, plugin_engine

    engine = plugin_engine(my_plugin)
    elder = person(birth_date=datetime.date(1950, 5, 1))
    d = engine.evaluate("household", household(desil=2, members=[elder]), as_of="2024-01-01")
    assert_decision(d, "my_top_up_eligible", value=True)
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..types import parse_iso_date

if TYPE_CHECKING:
    from ..decision import Decision, MemberDecision
    from ..engine import Engine

__all__ = [
    "DEFAULT_AS_OF",
    "assert_decision",
    "household",
    "institution",
    "make_kk",
    "make_nik",
    "person",
    "plugin_engine",
    "plugins_registered",
]

DEFAULT_AS_OF = datetime.date(2024, 7, 1)
#: Region digits used by the builders: Kota Pekalongan, Pekalongan Barat (33.75.01), the
#: worked example of the docs. Pass ``nik=``/``id=`` to use another region.
DEFAULT_REGION = "337501"

_serial = itertools.count(1)
_serial_lock = threading.Lock()


def _next_serial() -> int:
    with _serial_lock:
        return next(_serial) % 10_000 or 1


# ---------------------------------------------------------------------------------------------
# Engines


def plugin_engine(*plugins: Any, **kwargs: Any) -> Engine:
    """Load an engine with the national pack and ``plugins`` (modules, objects or entry-point
    names), for one test.

    Args:
        *plugins: what :meth:`Engine.load` accepts in ``plugins``.
        **kwargs: passed on to :meth:`Engine.load` (``rules=``, ``parameters=``,
            ``builtins=False`` to load a plugin without the national pack).

    Returns:
        The loaded engine.
    """
    from ..engine import Engine

    return Engine.load(plugins=list(plugins) or None, **kwargs)


_patch_lock = threading.RLock()


@contextlib.contextmanager
def plugins_registered(*plugins: Any, **kwargs: Any) -> Iterator[Engine]:
    """Register ``plugins`` for the duration of a ``with`` block.

    Inside the block every :meth:`Engine.load` — also those made by the code under test, such
    as the CLI — loads ``plugins`` besides what it is asked for. The block yields an engine
    loaded with them (``kwargs`` go to that load). Not meant for concurrent tests: the
    registration is process-wide while the block runs.

    Example:
        >>> with plugins_registered(my_plugin) as engine:       # doctest: +SKIP
        ...     runner.invoke(cli.main, ["plugins"])
    """
    from .. import core
    from .. import engine as engine_mod
    from ..plugins import resolve_plugins

    extra = resolve_plugins(list(plugins))
    with _patch_lock:
        # the engine layer (core.py) resolves the plugins of every load
        original = getattr(core, "resolve_plugins")  # noqa: B009 - patched below

        def resolve_with_extra(requested: Any) -> Any:
            infos = list(original(requested))
            names = {i.name for i in infos}
            return infos + [i for i in extra if i.name not in names]

        setattr(core, "resolve_plugins", resolve_with_extra)  # noqa: B010
        try:
            yield engine_mod.Engine.load(**kwargs)
        finally:
            setattr(core, "resolve_plugins", original)  # noqa: B010


# ---------------------------------------------------------------------------------------------
# Record builders


def make_nik(birth_date: datetime.date | str | None = None, sex: str | None = None, *,
             region: str = DEFAULT_REGION, serial: int | None = None) -> str:
    """A 16-digit NIK that agrees with a birth date and sex (women: day + 40).

    Args:
        birth_date: the date encoded in digits 7-12 (default 1 January 1980).
        sex: ``"female"`` adds 40 to the day.
        region: the 6 digits of the kecamatan of first registration.
        serial: the last 4 digits (default: a counter, so NIKs differ).
    """
    bd = _as_date(birth_date) or datetime.date(1980, 1, 1)
    day = bd.day + (40 if sex == "female" else 0)
    ser = _next_serial() if serial is None else serial
    return f"{region[:6]:0<6}{day:02d}{bd.month:02d}{bd.year % 100:02d}{ser % 10_000:04d}"


def make_kk(issued: datetime.date | str | None = None, *, region: str = DEFAULT_REGION,
            serial: int | None = None) -> str:
    """A 16-digit family-card number (No. KK): region, issue date (ddmmyy), serial."""
    d = _as_date(issued) or datetime.date(2020, 1, 15)
    ser = _next_serial() if serial is None else serial
    return f"{region[:6]:0<6}{d.day:02d}{d.month:02d}{d.year % 100:02d}{ser % 10_000:04d}"


def person(**fields: Any) -> dict[str, Any]:
    """A person record: a living adult head of household unless ``fields`` say otherwise.

    Defaults: ``name``, ``sex`` (male), ``birth_date`` (1980-01-01), ``relationship`` (head),
    ``is_alive`` (True) and a ``nik`` that agrees with the sex and birth date. Any field may be
    given, including plugin fields; ``None`` makes a field missing (unknown).
    """
    rec: dict[str, Any] = {
        "name": "Budi Santoso",
        "sex": "male",
        "birth_date": datetime.date(1980, 1, 1),
        "relationship": "head",
        "is_alive": True,
    }
    rec.update(fields)
    if "nik" not in fields:
        rec["nik"] = make_nik(rec.get("birth_date"), rec.get("sex"))
    return rec


def household(**fields: Any) -> dict[str, Any]:
    """A household (family card) record with one member, the head, unless ``members`` is given.

    Defaults: an ``id`` (No. KK) issued in Kota Pekalongan, ``kecamatan`` Pekalongan Barat,
    ``kelurahan`` Medono and ``members=[person()]``. Every member gets ``household_id`` set to
    the household's id unless it has one. Other fields are left out (unknown) unless given.
    """
    rec: dict[str, Any] = {
        "id": make_kk(),
        "kecamatan": "Pekalongan Barat",
        "kelurahan": "Medono",
    }
    rec.update({k: v for k, v in fields.items() if k != "members"})
    members = fields.get("members")
    if members is None:
        members = [person()]
    rec["members"] = [{"household_id": rec["id"], **dict(m)} for m in members]
    return rec


def institution(**fields: Any) -> dict[str, Any]:
    """An institution (LKS) record: identity fields only unless ``fields`` add more.

    Defaults: ``id``, ``name``, ``kelurahan`` (Medono). Every other field is left out (unknown)
    so a test states exactly what the rule under test reads.
    """
    rec: dict[str, Any] = {
        "id": f"LKS-{_next_serial():04d}",
        "name": "Yayasan Contoh Sejahtera",
        "kelurahan": "Medono",
    }
    rec.update(fields)
    return rec


def _as_date(value: Any) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return parse_iso_date(str(value))


# ---------------------------------------------------------------------------------------------
# Assertions

_UNSET: Any = object()


def assert_decision(d: Decision | MemberDecision, rule: str, value: Any = _UNSET, *,
                    status: str | None = None, lang: str = "en") -> None:
    """Assert a rule's value and/or status in a decision; on failure, show the explanation.

    Args:
        d: a decision (or a member's decision).
        rule: the rule id.
        value: the expected value (``None`` means unknown). Omit to check only the status.
        status: the expected status: ``"true"``, ``"false"``, ``"unknown"`` or ``"value"``.
        lang: the language of the explanation in the failure message.

    Raises:
        AssertionError: naming the rule, what was expected, what was found, and why.
    """
    got_value = d.value(rule)
    got_status = d.status(rule)
    problems = []
    if value is not _UNSET and not _same(value, got_value):
        problems.append(f"value: expected {_show(value)}, got {_show(got_value)}")
    if status is not None and status != got_status:
        problems.append(f"status: expected {status!r}, got {got_status!r}")
    if not problems:
        return
    try:
        why = d.explain(rule, lang=lang)
    except Exception as exc:  # the assertion must still say what differs
        why = f"(no explanation: {exc})"
    header = f"rule '{rule}': " + "; ".join(problems)
    raise AssertionError(f"{header}\n{_indent(str(why))}")


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return abs(expected - actual) <= 1e-9 * max(1.0, abs(expected))
    if isinstance(expected, str) and isinstance(actual, datetime.date):
        return expected == actual.isoformat()
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return set(expected) == set(actual) and all(_same(expected[k], actual[k])
                                                    for k in expected)
    return bool(expected == actual)


def _show(v: Any) -> str:
    return "unknown (None)" if v is None else repr(v)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())

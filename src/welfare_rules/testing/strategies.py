"""Hypothesis strategies that generate valid records from a loaded engine's schema.

The strategies read the schema, not a fixed list of fields, so they cover every field a plugin
adds: enums draw from the declared values, ints and decimals respect the declared ``min`` and
``max``, dates fall in a range, NIKs and family-card numbers are 16 digits (a NIK agrees with
the person's sex and birth date, as Dukcapil issues them). Any field but the entity's key may be
missing (``None``), with probability ``missing``; missing data shrinks away, so a failing example
is reported with as many fields present as possible.

    from hypothesis import given
    from welfare_rules.testing.strategies import households

    @given(households(engine, max_members=4))
    def test_never_crashes(hh):
        engine.evaluate("household", hh, as_of=datetime.date(2024, 1, 1))

New features extend this module (one place for record, parameter and node strategies).
"""

from __future__ import annotations

import datetime
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from .. import types as t

if TYPE_CHECKING:
    from ..engine import Engine
    from ..schema import Field

__all__ = [
    "BIRTH_DATES",
    "DATES",
    "EDGE_DATES",
    "EDGE_DECIMALS",
    "EDGE_INTS",
    "EDGE_TEXTS",
    "HOSTILE_KINDS",
    "PADDED_DIGITS",
    "TABLE_CELLS",
    "allocation_inputs",
    "date_steps",
    "dates_near_bounds",
    "digits",
    "edge_records",
    "field_values",
    "hostile_rule_files",
    "households",
    "messy_households",
    "nik_for",
    "record_shapes",
    "records",
    "small_tables",
]

#: Default range of generated dates (verification, registration, death...).
DATES = (datetime.date(1990, 1, 1), datetime.date(2030, 12, 31))
#: Default range of birth dates.
BIRTH_DATES = (datetime.date(1920, 1, 1), datetime.date(2024, 12, 31))

# -- the edges every backend must agree on (docs/architecture.md, "Semantics at the edges") ------

#: Texts for string functions and regular expressions: accents precomposed and combining, CJK,
#: a letter outside the BMP, case mappings that differ between libraries (ß, İ), spaces that are
#: not ASCII, the empty text.
EDGE_TEXTS = ("José", "Jose\u0301", "王小明", "Nguyễn Thị", "ÑAÑA", "straße", "İstanbul",
              "🙂 ab", "a\u00a0b", "tab\there", "", "Klego", "x'); DROP TABLE t; --")
#: Digits padded with whitespace (``to_int`` trims Python's whitespace on every backend: tabs,
#: line ends, a no-break or ideographic space) and near misses.
PADDED_DIGITS = ("\t12", "12\n", "12\r", " -7\u3000", "\u00a08\u2028", "\x1c3\x85", "1 2",
                 "+0012", "\t", "9" * 19)
#: Integers at and next to the 64-bit bounds, and the zero a division may meet.
EDGE_INTS = (0, 1, -1, 2**31, -(2**31) - 1, 2**53 + 1, 2**62, 2**63 - 1, -(2**63),
             -(2**63) + 1)
#: Decimals: NaN (a missing value, as pandas writes one), signed zeros, the smallest and largest
#: finite doubles, and values whose rounding differs between half-even and half-away.
EDGE_DECIMALS = (float("nan"), 0.0, -0.0, 5e-324, 0.5, 2.5, -2.5, 36.5, 18.75, 1e15,
                 1.7976931348623157e308, -1.7976931348623157e308)
#: Dates at and next to the bounds of the date range (0001-01-01 … 9999-12-31), and 29 February.
EDGE_DATES = (datetime.date(1, 1, 1), datetime.date(1, 1, 2), datetime.date(1, 12, 31),
              datetime.date(9999, 12, 31), datetime.date(9999, 12, 30),
              datetime.date(9999, 1, 31), datetime.date(2024, 2, 29), datetime.date(1970, 1, 1))

_INT_SPAN = 100_000_000  # when a field declares no max: up to this much above its min
_DECIMAL_SPAN = 10_000.0
_ID_FIELDS = {"nik", "household_id"}  # 16-digit identity numbers (and the household's id)
_NAME_ALPHABET = string.ascii_letters + " '"


def digits(n: int = 16, *, prefix: str = "") -> st.SearchStrategy[str]:
    """Strings of exactly ``n`` digits, starting with ``prefix``."""
    rest = n - len(prefix)
    return st.text(alphabet="0123456789", min_size=rest, max_size=rest).map(
        lambda s: prefix + s)


def nik_for(birth_date: datetime.date, sex: str | None, region: str, serial: int) -> str:
    """The NIK Dukcapil would issue: region (6), birth day (+40 for women), month, year (2),
    serial (4)."""
    day = birth_date.day + (40 if sex == "female" else 0)
    return f"{region}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"


def field_values(fld: Field, *, dates: tuple[datetime.date, datetime.date] = DATES,
                 birth_dates: tuple[datetime.date, datetime.date] = BIRTH_DATES
                 ) -> st.SearchStrategy[Any]:
    """Valid values of one schema field (never ``None``)."""
    ty = fld.type
    if fld.name in _ID_FIELDS:
        return digits(16)
    return _values_of_type(ty, fld, dates, birth_dates)


def _values_of_type(ty: t.Type, fld: Field, dates: tuple[datetime.date, datetime.date],
                    birth_dates: tuple[datetime.date, datetime.date]) -> st.SearchStrategy[Any]:
    kind = ty.kind
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        lo = int(fld.min) if isinstance(fld.min, int | float) else 0
        hi = int(fld.max) if isinstance(fld.max, int | float) else lo + _INT_SPAN
        return st.integers(lo, hi)
    if kind == "decimal":
        lo_f = float(fld.min) if isinstance(fld.min, int | float) else 0.0
        hi_f = float(fld.max) if isinstance(fld.max, int | float) else lo_f + _DECIMAL_SPAN
        return st.floats(lo_f, hi_f, allow_nan=False, allow_infinity=False).map(
            lambda x: min(max(round(x, 2), lo_f), hi_f))
    if kind == "enum":
        return st.sampled_from(ty.values)
    if kind == "date":
        lo_d, hi_d = birth_dates if fld.name == "birth_date" else dates
        if isinstance(fld.min, datetime.date):
            lo_d = max(lo_d, fld.min)
        if isinstance(fld.max, datetime.date):
            hi_d = min(hi_d, fld.max)
        return st.dates(lo_d, hi_d)
    if kind == "str":
        return st.text(alphabet=_NAME_ALPHABET, min_size=1, max_size=24).map(str.strip).filter(
            bool)
    if kind == "list" and ty.elem is not None:
        return st.lists(_values_of_type(ty.elem, fld, dates, birth_dates), max_size=4)
    return st.none()


@st.composite
def _maybe(draw: st.DrawFn, values: st.SearchStrategy[Any], missing: float) -> Any:
    # An integer draw (not a float) so that shrinking goes to 0, i.e. to "present".
    if missing > 0 and draw(st.integers(0, 999)) >= round(1000 * (1 - missing)):
        return None
    return draw(values)


def records(engine: Engine, entity: str, missing: float = 0.1, *,
            fields: Mapping[str, st.SearchStrategy[Any]] | None = None,
            dates: tuple[datetime.date, datetime.date] = DATES,
            birth_dates: tuple[datetime.date, datetime.date] = BIRTH_DATES
            ) -> st.SearchStrategy[dict[str, Any]]:
    """Records of ``entity`` with every scalar field of the engine's schema (plugins included).

    Args:
        engine: a loaded engine (its schema decides the fields).
        entity: ``"household"``, ``"person"``, ``"institution"`` or a plugin's entity.
        missing: the probability that a field (other than the key) is missing (``None``).
        fields: strategies replacing the generated ones for some fields, e.g.
            ``{"kelurahan": st.sampled_from(KELURAHAN)}``.
        dates: the range of date fields; ``birth_dates`` the range of ``birth_date``.

    Relations (a household's ``members``) are not filled: see :func:`households`. A person's
    ``nik`` agrees with its ``sex`` and ``birth_date`` when both are present; a dead person's
    ``death_date`` is not before the birth date, and a living person has none.
    """
    if not 0 <= missing <= 1:
        raise ValueError(f"missing is a probability between 0 and 1, found {missing}")
    ent = engine.schema.entity(entity)
    given = dict(fields or {})
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for name, fld in ent.fields.items():
        if name in given:
            values = given.pop(name)
        elif name == ent.key and fld.type.kind == "str":
            values = digits(16)  # No. KK, NIK, or an institution's id
        else:
            values = field_values(fld, dates=dates, birth_dates=birth_dates)
        parts[name] = values if name == ent.key else _maybe(values, missing)
    for name, strategy in given.items():  # fields not in the schema: taken as given
        parts[name] = strategy
    fixed = st.fixed_dictionaries(parts)
    if entity == "person" or _looks_like_person(ent.fields):
        return fixed.map(_person_consistency)
    return fixed


def _looks_like_person(fields: Mapping[str, Any]) -> bool:
    return {"nik", "birth_date", "sex"} <= set(fields)


def _person_consistency(rec: dict[str, Any]) -> dict[str, Any]:
    rec = dict(rec)
    bd, sex, nik = rec.get("birth_date"), rec.get("sex"), rec.get("nik")
    if isinstance(bd, datetime.date) and isinstance(nik, str) and len(nik) == 16:
        rec["nik"] = nik_for(bd, sex, nik[:6], int(nik[12:]))
    if "is_alive" in rec and "death_date" in rec:
        if rec["is_alive"]:
            rec["death_date"] = None
        elif isinstance(rec["death_date"], datetime.date) and isinstance(bd, datetime.date) \
                and rec["death_date"] < bd:
            rec["death_date"] = bd
    return rec


@st.composite
def _households(draw: st.DrawFn, engine: Engine, min_members: int, max_members: int,
                missing: float, fields: Mapping[str, st.SearchStrategy[Any]] | None,
                member_fields: Mapping[str, st.SearchStrategy[Any]] | None,
                dates: tuple[datetime.date, datetime.date],
                birth_dates: tuple[datetime.date, datetime.date]) -> dict[str, Any]:
    hh = draw(records(engine, "household", missing, fields=fields, dates=dates,
                      birth_dates=birth_dates))
    ent = engine.schema.entity("household")
    rel = next(iter(ent.relations.values()), None)
    if rel is None:
        return hh
    n = draw(st.integers(min_members, max_members))
    people = draw(st.lists(records(engine, rel.entity, missing, fields=member_fields,
                                   dates=dates, birth_dates=birth_dates),
                           min_size=n, max_size=n))
    child = engine.schema.entity(rel.entity)
    seen: set[Any] = set()
    members = []
    for i, p in enumerate(people):
        p = dict(p)
        if rel.key in child.fields:
            p[rel.key] = hh[ent.key]
        if "relationship" in child.fields and p.get("relationship") is not None:
            # exactly one head, first; nobody else is the head
            if i == 0:
                p["relationship"] = "head"
            elif p["relationship"] == "head":
                p["relationship"] = "child"
        key = p.get(child.key)
        if key in seen and isinstance(key, str) and len(key) == 16:
            key = key[:12] + f"{(int(key[12:]) + i) % 10_000:04d}"
            while key in seen:
                key = key[:12] + f"{(int(key[12:]) + 1) % 10_000:04d}"
            p[child.key] = key
        seen.add(p.get(child.key))
        members.append(p)
    hh[rel.name] = members
    return hh


def households(engine: Engine, min_members: int = 0, max_members: int = 6, *,
               missing: float = 0.1, fields: Mapping[str, st.SearchStrategy[Any]] | None = None,
               member_fields: Mapping[str, st.SearchStrategy[Any]] | None = None,
               dates: tuple[datetime.date, datetime.date] = DATES,
               birth_dates: tuple[datetime.date, datetime.date] = BIRTH_DATES
               ) -> st.SearchStrategy[dict[str, Any]]:
    """Household records with ``members``, as :meth:`Engine.evaluate` takes them.

    Members carry the household's id in ``household_id``, have distinct 16-digit NIKs, and the
    first member (when relationships are present) is the only head.

    Args:
        engine: a loaded engine (its schema decides the fields, plugin fields included).
        min_members, max_members: how many members.
        missing: the probability that a field is missing, for households and members.
        fields, member_fields: strategies replacing the generated ones for some fields.
        dates, birth_dates: the ranges of generated dates.
    """
    if min_members < 0 or max_members < min_members:
        raise ValueError("need 0 <= min_members <= max_members")
    return _households(engine, min_members, max_members, missing, fields, member_fields,
                       dates, birth_dates)



# --- messy records: what callers really pass (the record contract, docs/data.md) ----------------

#: Names that no schema declares, added to messy records as unknown fields.
UNKNOWN_NAMES = ("desill", "in_dtsk", "zz_extra_field")


def _convertible(fld: Field, value: Any) -> list[Any]:
    """Other spellings of a canonical ``value`` that the record contract converts back to it."""
    kind = fld.type.kind
    if value is None:
        return []
    if kind == "bool":
        words = ["true", "True", "ya", "YA", " Ya ", 1] if value else ["false", "tidak",
                                                                        "TIDAK", 0]
        return words
    if kind == "int":
        return [str(value), f" {value} ", float(value)]
    if kind == "decimal":
        out: list[Any] = [repr(float(value))]
        if float(value).is_integer():
            out.append(int(value))
        return out
    if kind == "date":
        return [value.isoformat(), datetime.datetime(value.year, value.month, value.day)]
    if kind == "enum":
        return [str(value).upper(), str(value).title()]
    return []


def _invalid(fld: Field) -> list[Any]:
    """Values the record contract must refuse for ``fld``: wrong types, out of range."""
    kind = fld.type.kind
    if kind == "bool":
        return ["maybe", "yes", 2, 1.5, [], "2024-01-01"]
    if kind == "int":
        out: list[Any] = ["abc", 2.5, "7.5", "+2", 10**20, True, [], "9" * 22]
        if isinstance(fld.min, int | float):
            out.append(int(fld.min) - 1)
        if isinstance(fld.max, int | float):
            out += [int(fld.max) + 1, str(int(fld.max) + 1)]
        return out
    if kind == "decimal":
        out = ["abc", True, float("inf"), "1,5", {}]
        if isinstance(fld.min, int | float):
            out.append(float(fld.min) - 0.5)
        return out
    if kind == "date":
        out = ["0000-06-15", "2024-02-30", "15/06/2024", datetime.datetime(2024, 1, 1, 12, 30),
               20240101]
        if isinstance(fld.min, datetime.date) and fld.min > datetime.date.min:
            out.append(fld.min - datetime.timedelta(days=1))
        if isinstance(fld.max, datetime.date) and fld.max < datetime.date.max:
            out.append(fld.max + datetime.timedelta(days=1))
        return out
    if kind == "enum":
        return ["not-a-value", 3, True]
    if kind == "str":
        if fld.pattern is not None:
            return ["12345", "3" * 17, "337501010123000X"]
        return [3.5, [], True]
    return []


@st.composite
def _messy(draw: st.DrawFn, engine: Engine, entity: str, rec: dict[str, Any], index: int | None,
           relation: str | None, bad: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    ent = engine.schema.entity(entity)
    raw, canon = dict(rec), dict(rec)
    prefix = "" if index is None else f"{relation}[{index}]."
    for name, fld in ent.fields.items():
        choice = draw(st.integers(0, 9))
        if choice < 6:
            continue  # left as it is
        if choice < 8:
            spellings = _convertible(fld, rec.get(name))
            if spellings:
                raw[name] = draw(st.sampled_from(spellings))
            continue
        wrong = _invalid(fld)
        if wrong:
            raw[name] = draw(st.sampled_from(wrong))
            canon[name] = None
            bad.add(prefix + name)
    if draw(st.integers(0, 9)) == 0:
        extra = draw(st.sampled_from([n for n in UNKNOWN_NAMES if n not in ent.fields]))
        raw[extra] = draw(st.sampled_from([1, "x", None]))
        bad.add(prefix + extra)
    return raw, canon


@st.composite
def messy_households(draw: st.DrawFn, engine: Engine, max_members: int = 3
                     ) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """A valid household (see :func:`households`) with some values respelled and some broken.

    Each field is left alone, replaced by another spelling the record contract converts back to
    the same value (``"2"`` for 2, ``"ya"`` for True, an ISO text for a date), or replaced by an
    invalid value (a wrong type, a value out of the declared range); now and then an unknown
    field is added.

    Returns:
        ``(messy, canonical, bad)``: the record to give the engine, the canonical record it
        stands for (invalid values as None, unknown fields left out) and the paths that an
        :class:`~welfare_rules.errors.InputError` must name (``desil``,
        ``members[1].birth_date``).
    """
    hh = draw(households(engine, max_members=max_members, missing=0.05))
    bad: set[str] = set()
    raw, canon = draw(_messy(engine, "household", {k: v for k, v in hh.items()
                                                   if k != "members"}, None, None, bad))
    ent = engine.schema.entity("household")
    rel = next(iter(ent.relations.values()))
    raw_members, canon_members = [], []
    for i, m in enumerate(hh.get(rel.name) or []):
        r, c = draw(_messy(engine, rel.entity, m, i, rel.name, bad))
        raw_members.append(r)
        canon_members.append(c)
    raw[rel.name] = raw_members
    canon[rel.name] = canon_members
    return raw, canon, bad


@st.composite
def record_shapes(draw: st.DrawFn, engine: Engine, rec: Any, entity: str = "household"
                  ) -> Any:
    """``rec`` (and each of its members) in another shape holding the same values: its keys in
    a drawn order, some ``None`` fields left out instead (the record is then no longer
    *complete*, as ``backends/fused.py`` calls a record of every declared name), and now and
    then a declared key traded for an undeclared one (as many keys, one unknown: refused).
    A member list keeps its length, each member shaped on its own, so complete and sparse
    members mix. What is not a dict is returned as it is."""
    if not isinstance(rec, dict):
        return rec
    ent = engine.schema.entity(entity)
    out = dict(rec)
    for rel in ent.relations.values():
        ms = out.get(rel.name)
        if isinstance(ms, list):
            out[rel.name] = [draw(record_shapes(engine, m, rel.entity)) for m in ms]
    choice = draw(st.integers(0, 9))
    if choice >= 7:  # sparse: some missing values absent
        nones = sorted(k for k, v in out.items() if v is None)
        if nones:
            for k in draw(st.lists(st.sampled_from(nones), min_size=1, unique=True)):
                del out[k]
    elif choice == 6 and out:  # a declared key traded for an undeclared one
        del out[draw(st.sampled_from(sorted(out)))]
        out["no_such_field"] = None
    keys = draw(st.permutations(list(out)))
    return {k: out[k] for k in keys}


@st.composite
def allocation_inputs(draw: st.DrawFn, programme: str = "pkh", *, max_households: int = 60,
                      groups: tuple[str, ...] = ("Klego", "Degayu", "Setono", "Medono")
                      ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A results table (as rows) and quotas for :func:`welfare_rules.recipients.allocate`.

    Rows have ``id`` (distinct 16 digits), ``kelurahan``, ``<programme>_eligible`` and its
    ``__status`` (true, false or unknown), ``priority_score`` (ties and missing scores are
    likely), ``desil`` (possibly missing) and ``receives_<programme>``. Quotas name some of
    the groups (a group without a quota has none), from 0 to more than the group holds.
    """
    n = draw(st.integers(0, max_households))
    ids = draw(st.lists(digits(16), min_size=n, max_size=n, unique=True))
    rows = []
    for hid in ids:
        status = draw(st.sampled_from(["true", "true", "false", "unknown"]))
        rows.append({
            "id": hid, "kelurahan": draw(st.sampled_from(groups)),
            f"{programme}_eligible": {"true": True, "false": False}.get(status),
            f"{programme}_eligible__status": status,
            "priority_score": draw(st.one_of(st.none(), st.integers(0, 6))),
            "desil": draw(st.one_of(st.none(), st.integers(1, 10))),
            f"receives_{programme}": draw(st.booleans()),
        })
    quota = draw(st.dictionaries(st.sampled_from(groups), st.integers(0, max_households // 2)))
    return rows, quota


# ---------------------------------------------------------------------------------------------
# Decision tables over small enumerable inputs (lint's verdicts against brute force)

#: the cells a generated table may hold, per kind of input: a boolean, an enum of ``a, b, c``,
#: an int from 0 to 4 (as a rule file writes them, YAML flow text)
TABLE_CELLS: dict[str, st.SearchStrategy[str]] = {
    "bool": st.sampled_from(['"-"', "true", "false"]),
    "enum": st.sampled_from(['"-"', "a", "b", "[a, b]", '"not(c)"', """'"b","c"'"""]),
    "int": st.one_of(
        st.just('"-"'),
        st.builds(lambda op, v: f'"{op} {v}"', st.sampled_from(["<", "<=", ">", ">=", "!="]),
                  st.integers(-1, 5)),
        st.builds(lambda a, b, lo, hi: f'"{lo}{a}..{b}{hi}"', st.integers(-1, 3),
                  st.integers(1, 5), st.sampled_from(["[", "("]), st.sampled_from(["]", ")"])),
        st.integers(0, 4).map(str)),
}


@st.composite
def small_tables(draw: st.DrawFn, inputs: Mapping[str, str],
                 policies: tuple[str, ...] = ("unique", "any", "first"), max_rows: int = 4
                 ) -> tuple[str, list[str], list[tuple[list[str], int]]]:
    """A decision table over some of ``inputs`` (field name → ``bool``, ``enum`` or ``int``):
    ``(hit policy, input names, rows)``, each row its cells (YAML text) and an output 1 or 2."""
    names = draw(st.lists(st.sampled_from(sorted(inputs)), min_size=1, max_size=len(inputs),
                          unique=True))
    policy = draw(st.sampled_from(policies))
    rows = draw(st.lists(st.tuples(st.tuples(*(TABLE_CELLS[inputs[i]] for i in names)),
                                   st.integers(1, 2)), min_size=1, max_size=max_rows))
    return policy, names, [(list(cells), out) for cells, out in rows]


# ---------------------------------------------------------------------------------------------
# Hostile rule files (docs/security.md)

#: The pieces a hostile rule file is built from; each names a way to attack the loader or the
#: evaluator.
HOSTILE_KINDS = ("yaml_nesting", "alias", "bomb", "brackets", "not_chain", "text_growth",
                 "int_growth", "regex", "huge_int", "huge_decimal", "nan", "long_expr",
                 "chain", "date_range")


@st.composite
def hostile_rule_files(draw: st.DrawFn) -> str:
    """The text of one household ruleset file built to break the loader or the evaluator:
    deep YAML or expression nesting, aliases and bombs, growth chains, regexes (ReDoS and
    invalid ones), huge literals, NaN. Rules read the fields ``x`` (int), ``name`` (str) and
    ``amount`` (decimal). Whatever is drawn, loading and evaluating it must end quickly with a
    result or one of the library's own errors."""
    kind = draw(st.sampled_from(HOSTILE_KINDS))
    size = draw(st.integers(1, 5000))
    head = ("id: hostile\nentity: household\nversion: '1'\n"
            "title: {id: Aturan uji, en: Test rules}\n")
    if kind == "yaml_nesting":
        return head + "rules:\n  - id: t_r\n    when: x > 1\n    extra: " + "[" * size \
            + "]" * size + "\n"
    if kind == "alias":
        return head + "a: &a [x]\nrules:\n  - &r {id: t_r, when: x > 1}\n  - *r\n"
    if kind == "bomb":
        levels = draw(st.integers(2, 9))
        lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]"
                  for i in range(1, levels)]
        return head + "\n".join(lines) + "\nrules: []\n"
    if kind == "brackets":
        depth = min(size, 4000)
        return head + f"rules:\n  - id: t_r\n    value: '{'(' * depth}x{')' * depth}'\n"
    if kind == "not_chain":
        depth = min(size, 400)
        if draw(st.booleans()):
            return head + f"rules:\n  - id: t_r\n    when: '{'not ' * depth}x > 1'\n"
        body = "rules:\n  - id: t_r\n" + "".join(
            "  " * (i + 2) + "not:\n" for i in range(depth)) + "  " * (depth + 2) + "when: a\n"
        return head + body
    if kind in ("text_growth", "int_growth", "chain"):
        n = min(size, 300)
        first, step = {"text_growth": ("name", "{p} + {p}"), "int_growth": ("x", "{p} * {p}"),
                       "chain": ("x", "{p} + 1")}[kind]
        rules = [f"  - id: t_g0\n    value: {first}\n"]
        rules += [f"  - id: t_g{i}\n    value: {step.format(p=f't_g{i - 1}')}\n"
                  for i in range(1, n + 1)]
        return head + "rules:\n" + "".join(rules)
    if kind == "regex":
        pattern = draw(st.sampled_from(["(a+)+$", "(a|aa)+$", "(.*a){20}", "(a", "(a)\\\\1",
                                        "(?=a)", "a{2000}", "[", "\\\\w+é", "((a*)*)*b"]))
        return head + f"rules:\n  - id: t_r\n    when: 'matches(name, \"{pattern}\")'\n"
    if kind == "huge_int":
        return head + f"rules:\n  - id: t_r\n    value: x * {'9' * min(size, 400)}\n" \
            f"  - id: t_y\n    value: {'9' * min(size, 400)}\n"
    if kind == "huge_decimal":
        return head + f"rules:\n  - id: t_r\n    value: amount * {'9' * min(size, 400)}.5\n"
    if kind == "nan":
        lit = draw(st.sampled_from([".nan", ".inf", "-.inf", "1e999"]))
        return head + "rules:\n  - id: t_r\n    table:\n      hit_policy: first\n" \
            f"      inputs: [x]\n      rows: [{{when: ['> 1'], then: {lit}}}]\n"
    if kind == "date_range":
        expr = draw(st.sampled_from([
            'add_days(date("9999-12-31"), x)', 'add_months(date("0001-01-31"), x)',
            'add_years(date("2024-02-29"), x)', "date(x, 1, 1)", "date(2024, x, x)",
            'date("0000-01-01")', "is_valid_date(x, x, x)",
            'days_between(date("0001-01-01"), add_days(date("9999-12-31"), 0 - x))']))
        return head + f"rules:\n  - id: t_r\n    value: '{expr}'\n"
    return head + f"rules:\n  - id: t_r\n    value: '{' + '.join(['x'] * size)}'\n"


def dates_near_bounds() -> st.SearchStrategy[datetime.date]:
    """Dates, mostly within a year of 0001-01-01 or 9999-12-31 (the range every backend
    shares, docs/security.md)."""
    first, last = datetime.date.min, datetime.date.max
    return st.one_of(st.dates(first, first + datetime.timedelta(days=400)),
                     st.dates(last - datetime.timedelta(days=400), last),
                     st.sampled_from([first, last]), st.dates())


def date_steps() -> st.SearchStrategy[int]:
    """Steps (days, months, years or a year) that reach, cross or stay inside the date range
    from a date near its bounds, and 64-bit extremes."""
    span = (datetime.date.max - datetime.date.min).days
    return st.one_of(st.integers(-800, 800),
                     st.sampled_from([span, span + 1, -span, -span - 1, 9998, 9999, 10000,
                                      119987, 119988, 2**31, -(2**31) - 1, 2**63 - 1,
                                      -(2**63)]),
                     st.integers(-(2**63), 2**63 - 1))


# ---------------------------------------------------------------------------------------------
# Edge records: every field of a type drawn from the edges of that type


def _edge_values(kind: str) -> st.SearchStrategy[Any]:
    if kind == "int":
        return st.one_of(st.sampled_from(EDGE_INTS), st.integers(-(2**63), 2**63 - 1))
    if kind == "decimal":
        return st.one_of(st.sampled_from(EDGE_DECIMALS),
                         st.floats(allow_nan=True, allow_infinity=False))
    if kind == "date":
        return st.one_of(st.sampled_from(EDGE_DATES),
                         st.dates(datetime.date(1, 1, 1), datetime.date(1, 3, 1)),
                         st.dates(datetime.date(9999, 11, 1), datetime.date(9999, 12, 31)))
    if kind == "str":
        return st.one_of(st.sampled_from(EDGE_TEXTS), st.sampled_from(PADDED_DIGITS),
                         st.text(st.characters(codec="utf-8"),
                                 max_size=12))
    if kind == "bool":
        return st.booleans()
    return st.none()


@st.composite
def edge_records(draw: st.DrawFn, fields: Mapping[str, str], *, key: str = "id",
                 min_size: int = 1, max_size: int = 12) -> list[dict[str, Any]]:
    """Flat records (one table) whose fields take the values at the edges of their type.

    Args:
        fields: field name → type kind (``int``, ``decimal``, ``date``, ``str``, ``bool``).
        key: the key field, a distinct 16-digit id per record.
        min_size, max_size: how many records.

    Ints come from :data:`EDGE_INTS` (the 64-bit bounds) or anywhere in 64 bits, decimals from
    :data:`EDGE_DECIMALS` (NaN included) or any finite double, dates from :data:`EDGE_DATES` or
    the first and last months of the date range, texts from :data:`EDGE_TEXTS` or any Unicode
    text; any value may be missing. Nothing here knows a backend: the same records are held to
    every registered one.
    """
    n = draw(st.integers(min_size, max_size))
    out = []
    for i in range(n):
        rec: dict[str, Any] = {key: f"3375{i:012d}"}
        for name, kind in fields.items():
            rec[name] = draw(st.one_of(st.none(), _edge_values(kind)))
        out.append(rec)
    return out

"""Reconciling a recipient list with reference registers: deaths, civil servants and more.

This module owns the monthly "who should no longer be paid" routine (docs/reconcile.md). A
recipient list (households and persons, recipients being households with a ``receives_*`` flag)
is matched against registers a region supplies through adapters: the national pack declares a
death register and a civil-servant list (``national/registers.yaml``), a plugin declares more
through ``register_registers``. A match by NIK (or by No. KK, for a register keyed by family) is
evidence and carries the register's action; a match by normalised name and birth date alone is
only ever "needs verification" — never an automatic action. Matching is columnar: DuckDB joins
over Arrow tables, one pass per register, never a Python loop over people. Every finding carries
the engine fingerprint and the register record that is its evidence, so an auditor can redo it.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa
from sqlglot import exp

from ..errors import DataError, PluginError
from ..masking import is_masked_field, mask_id, mask_id_sql, mask_table
from ..schema import Schema, SchemaBuilder, Text
from ..sqlbuild import Query, bind, literal, query, relation, run, union_all
from .duck import as_date as _as_date

if TYPE_CHECKING:
    import duckdb

    from ..engine import Engine

__all__ = [
    "ACTIONS",
    "ACTION_REMOVE",
    "ACTION_STOP",
    "ACTION_VERIFY",
    "MATCH_HOUSEHOLD",
    "MATCH_NAME",
    "MATCH_NIK",
    "PROGRAMMES",
    "STATUS_EVIDENCE",
    "STATUS_VERIFY",
    "Reconciliation",
    "RegisterSpec",
    "load_registers",
    "normalise_name",
    "reconcile",
]

ACTION_STOP = "stop payment"
ACTION_REMOVE = "remove member"
ACTION_VERIFY = "verify at the kelurahan"
#: the recommended actions and their Indonesian wording
ACTIONS: dict[str, str] = {
    ACTION_STOP: "hentikan pembayaran",
    ACTION_REMOVE: "keluarkan anggota dari daftar",
    ACTION_VERIFY: "verifikasi di kelurahan",
}
STATUS_EVIDENCE = "evidence"
STATUS_VERIFY = "needs verification"
MATCH_NIK = "nik"
MATCH_HOUSEHOLD = "household_id"
MATCH_NAME = "name_birth_date"
MATCH_KEYS = (MATCH_NIK, MATCH_HOUSEHOLD, MATCH_NAME)
SEVERITIES = ("error", "warning", "info")
#: programmes of the national schema: ``receives_<p>`` flags a recipient of ``p``
PROGRAMMES = ("pkh", "bpnt", "pbi")
NATIONAL_REGISTERS = Path(__file__).parent.parent / "national" / "registers.yaml"
_NATIONAL_PLUGIN = "welfare-rules-national"

# -- names ------------------------------------------------------------------------------------
# The same regular expressions run in Python (normalise_name) and in DuckDB (RE2), so a name
# normalises identically on both sides; a test keeps them in step.
_AFTER_COMMA = r",.*$"  # academic titles written after a comma: "Budi, S.Pd."
_TRAILING_DOTTED = r"(\s+[a-z]{1,3}\.[a-z]{1,4}\.?)+\s*$"  # "Budi S.Pd." "Sri A.Md."
_NON_LETTERS = r"[^a-z]+"
HONORIFICS = ("h", "hj", "haji", "hajah", "hajjah", "kh", "drs", "dra", "dr", "ir", "prof",
              "bpk", "bapak", "pak", "ibu", "bu", "sdr", "sdri", "saudara", "saudari", "ny",
              "nyonya", "nn", "nona", "tn", "tuan", "alm", "almh", "almarhum", "almarhumah")
_HONORIFIC = r"\b(?:" + "|".join(HONORIFICS) + r")\b"
_SPACES = r"\s+"


def normalise_name(name: str | None) -> str:
    """A name as matching compares it: lower case, titles and honorifics dropped, letters only,
    single spaces. ``"Hj. SITI  Rahayu, S.Pd."`` → ``"siti rahayu"``; ``None`` → ``""``."""
    if name is None:
        return ""
    s = name.lower()
    s = re.sub(_AFTER_COMMA, "", s)
    s = re.sub(_TRAILING_DOTTED, "", s)
    s = re.sub(_NON_LETTERS, " ", s)
    s = re.sub(_HONORIFIC, " ", s)
    return re.sub(_SPACES, " ", s).strip()


def eligible_column(pattern: str, programme: str) -> str:
    """The eligibility column of ``programme`` in a results table: ``{programme}`` in
    ``pattern`` (``"{programme}_eligible"``) replaced. A plain replacement: the caller's
    pattern is never used as a format string, whose fields reach attributes
    (``{programme.__class__}``)."""
    return pattern.replace("{programme}", programme)


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define ``wr_norm_name(s)`` (as :func:`normalise_name`), ``wr_mask(s)`` (as
    :func:`~welfare_rules.masking.mask_id`) and ``wr_nik(s)`` (16 digits or NULL) on a DuckDB
    connection."""
    run(con, query("""
        CREATE OR REPLACE TEMP MACRO wr_norm_name(s) AS coalesce(trim(regexp_replace(
            regexp_replace(regexp_replace(regexp_replace(regexp_replace(lower(s),
            __after_comma, ''), __trailing_dotted, ''), __non_letters, ' ', 'g'),
            __honorific, ' ', 'g'), __spaces, ' ', 'g')), '')""",
        after_comma=literal(_AFTER_COMMA), trailing_dotted=literal(_TRAILING_DOTTED),
        non_letters=literal(_NON_LETTERS), honorific=literal(_HONORIFIC),
        spaces=literal(_SPACES)))
    run(con, query("CREATE OR REPLACE TEMP MACRO wr_mask(s) AS coalesce(__masked, '')",
                   masked=mask_id_sql(exp.cast(exp.column("s"), "VARCHAR"))))
    con.execute("""
        CREATE OR REPLACE TEMP MACRO wr_nik(s) AS CASE
            WHEN regexp_full_match(regexp_replace(CAST(s AS VARCHAR), '\\s', '', 'g'), '[0-9]{16}')
            THEN regexp_replace(CAST(s AS VARCHAR), '\\s', '', 'g') END""")


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection with the macros of :func:`install_macros`; the
    caller closes it (``with connect() as con:``)."""
    import duckdb

    con = duckdb.connect()
    install_macros(con)
    return con


# -- registers --------------------------------------------------------------------------------

def _by_role(value: Any, what: str, name: str, allowed: Sequence[str]) -> tuple[str, str]:
    if isinstance(value, Mapping):
        extra = set(value) - {"head_or_sole", "member"}
        if extra:
            raise PluginError(f"register '{name}': {what} has unknown keys {sorted(extra)} "
                              f"(expected head_or_sole, member)")
        head = value.get("head_or_sole", value.get("member"))
        member = value.get("member", head)
    else:
        head = member = value
    for v in (head, member):
        if v not in allowed:
            raise PluginError(f"register '{name}': {what} {v!r} is not one of "
                              f"{', '.join(repr(a) for a in allowed)}")
    return str(head), str(member)


@attrs.frozen
class RegisterSpec:
    """A reference register: its columns, how it matches people and what a match means.

    Attributes:
        name: the register's name (``death``, ``civil_servant``, a plugin's own).
        title: Indonesian and English title.
        fields: column name → type name (``str``, ``date``, ``int``, ``decimal``, ``bool``).
        match: the match keys, among ``nik``, ``household_id``, ``name_birth_date``.
        action_head: action when the matched person is the head or the only living member of a
            recipient family (and for a ``household_id`` match).
        action_member: action for any other member.
        severity_head, severity_member: the severity of a finding, by the same roles.
        key: the column identifying a register record (a certificate number); shown as evidence.
        in_force_field: a date column: a record counts only when on or before ``as_of``.
        reference: the legal basis or owner of the data.
        plugin: the plugin that declared it.
    """

    name: str
    title: Text
    fields: Mapping[str, str]
    match: tuple[str, ...]
    action_head: str
    action_member: str
    severity_head: str = "error"
    severity_member: str = "warning"
    key: str | None = None
    in_force_field: str | None = None
    reference: str = ""
    plugin: str = ""

    @classmethod
    def from_mapping(cls, name: str, spec: Mapping[str, Any], plugin: str = "") -> RegisterSpec:
        """Build a spec from its YAML/hook form (see ``national/registers.yaml``).

        Raises:
            PluginError: an unknown match key, action or severity, or a match key whose columns
                the register does not declare.
        """
        known = {"title", "reference", "fields", "key", "match", "in_force_field", "action",
                 "severity", "overrides", "plugin", "description"}
        extra = set(spec) - known
        if extra:
            raise PluginError(f"register '{name}' (from {plugin or '?'}): unknown keys "
                              f"{sorted(extra)}", plugin or None)
        match = spec.get("match", [MATCH_NIK])
        match = (match,) if isinstance(match, str) else tuple(match)
        bad = [m for m in match if m not in MATCH_KEYS]
        if bad or not match:
            raise PluginError(f"register '{name}': match keys {bad or '[]'} are not among "
                              f"{', '.join(MATCH_KEYS)}", plugin or None)
        fields = {str(k): str(v) for k, v in (spec.get("fields") or {}).items()}
        needed = {MATCH_NIK: {"nik": "str"}, MATCH_HOUSEHOLD: {"household_id": "str"},
                  MATCH_NAME: {"name": "str", "birth_date": "date"}}
        for m in match:
            for col, typ in needed[m].items():
                fields.setdefault(col, typ)
        action_head, action_member = _by_role(spec.get("action", ACTION_VERIFY), "action", name,
                                              list(ACTIONS))
        sev_head, sev_member = _by_role(spec.get("severity", "warning"), "severity", name,
                                        SEVERITIES)
        key = spec.get("key")
        in_force = spec.get("in_force_field")
        for what, column in (("key", key), ("in_force_field", in_force)):
            if column is not None and column not in fields:
                raise PluginError(f"register '{name}': {what} '{column}' is not among its fields "
                                  f"{sorted(fields)}", plugin or None)
        return cls(name=name, title=Text.of(spec.get("title") or name), fields=fields,
                   match=match, action_head=action_head, action_member=action_member,
                   severity_head=sev_head, severity_member=sev_member, key=key,
                   in_force_field=in_force, reference=str(spec.get("reference") or ""),
                   plugin=plugin or str(spec.get("plugin") or ""))

    def schema(self) -> Schema:
        """A one-entity schema (the entity is the register's name) for the adapters."""
        b = SchemaBuilder()
        from .._yaml import Positions

        b.add_data({"entities": {self.name: {"key": self.key or next(iter(self.fields)),
                                             "fields": dict(self.fields)}}},
                   Positions(None), _origin(self.plugin))
        return b.build()


def _origin(plugin: str) -> Any:
    from ..schema import Origin

    return Origin(plugin or "welfare-rules")


def load_registers(engine: Engine | None = None) -> dict[str, RegisterSpec]:
    """The registers known to ``engine``: the national ones, then those plugins declare.

    A plugin register with the name of a national one replaces it only with ``overrides: true``.

    Raises:
        PluginError: a clash without ``overrides``, or an invalid declaration.
    """
    from ..packs import read_registers

    out: dict[str, RegisterSpec] = {}
    if engine is None or not engine.registers:
        for name, spec in read_registers(NATIONAL_REGISTERS).items():
            out[str(name)] = RegisterSpec.from_mapping(str(name), spec, _NATIONAL_PLUGIN)
    for name, spec in (engine.registers if engine is not None else {}).items():
        plugin = str(spec.get("plugin", ""))
        if name in out and out[name].plugin != plugin and plugin != _NATIONAL_PLUGIN \
                and not spec.get("overrides"):
            raise PluginError(f"register '{name}' is declared by {out[name].plugin} and by "
                              f"{plugin}; declare 'overrides: true' to replace it", plugin)
        out[str(name)] = RegisterSpec.from_mapping(str(name), spec, plugin)
    return out


# -- input tables -----------------------------------------------------------------------------

def to_arrow(data: Any, what: str) -> pa.Table:
    """An Arrow table from an Arrow table, a pandas/polars DataFrame or a DuckDB relation."""
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "to_arrow_table"):  # DuckDB relation
        return data.to_arrow_table()
    if hasattr(data, "to_arrow") and not hasattr(data, "iloc"):  # polars, BatchResult
        return pa.table(data.to_arrow())
    try:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:  # pragma: no cover - pandas is optional
        pass
    raise DataError(f"{what}: expected an Arrow table, a DataFrame or a DuckDB relation, "
                    f"found {type(data).__name__}")


def recipient_tables(households: Any, persons: Any = None) -> tuple[pa.Table, pa.Table]:
    """Households and persons as Arrow tables from tables, DataFrames or a ``LoadResult``."""
    from ..adapters import LoadResult

    if isinstance(households, LoadResult):
        if persons is None:
            persons = households.tables.get("person")
        households = households.tables["household"]
    if persons is None:
        raise DataError("the persons table is needed (members of the recipient families)")
    if isinstance(persons, LoadResult):
        persons = persons.tables["person"]
    return to_arrow(households, "households"), to_arrow(persons, "persons")


def _read_register(spec: RegisterSpec, source: Any, adapter: Any) -> tuple[pa.Table, Any, str]:
    from ..adapters import CanonicalAdapter, LoadResult, read

    if isinstance(source, LoadResult):
        loaded = source
    elif isinstance(source, pa.Table) and set(spec.fields) <= set(source.column_names) \
            and adapter is None:
        # an already typed Arrow table: still validated by the canonical adapter
        loaded = read(source, spec.schema(), adapter=CanonicalAdapter(frozenset()),
                      entity=spec.name, progress=False)
    else:
        chosen = adapter if adapter is not None else CanonicalAdapter(frozenset())
        loaded = read(source, spec.schema(), adapter=chosen, entity=spec.name, progress=False)
    table = loaded.tables.get(spec.name)
    if table is None:
        raise DataError(f"register '{spec.name}': the source gave no '{spec.name}' table")
    src = str(source) if isinstance(source, (str, Path)) else "<dataframe>"
    return table, loaded, src


# -- the result -------------------------------------------------------------------------------

FINDING_COLUMNS = (
    "household_id", "kecamatan", "kelurahan", "programmes", "nik", "name", "relationship",
    "birth_date", "register", "register_title", "register_key", "register_record",
    "register_source", "match_type", "status", "severity", "action", "action_id", "reason",
    "as_of", "fingerprint",
)


@attrs.define
class Reconciliation:
    """The findings of one reconciliation run.

    Attributes:
        findings: one row per (person or family, register record) match, most severe first.
            Columns: ``household_id`` and ``nik`` masked; ``kecamatan``, ``kelurahan``,
            ``programmes`` (received, comma-separated), ``name``, ``relationship``,
            ``birth_date`` of the member (null for a family match); ``register``,
            ``register_title``, ``register_key`` (the record's key value, masked when the key is
            an identifier field), ``register_record`` (the record as JSON, identifier fields
            masked), ``register_source``; ``match_type`` (``nik``,
            ``household_id`` or ``name_birth_date``), ``status`` (``evidence`` or ``needs
            verification``), ``severity``, ``action`` (English), ``action_id`` (Indonesian),
            ``reason``, ``as_of`` and ``fingerprint`` (JSON); any other 16-digit run masked.
            With ``unmask=True`` the register's key and record are left as they are, and
            ``household_id_unmasked`` and ``nik_unmasked`` are added.
        registers: the register specs used.
        loads: how each register was read (row accounting and quarantine).
        fingerprint: the engine fingerprint as of the run.
        as_of: the reconciliation date.
    """

    findings: pa.Table
    registers: dict[str, RegisterSpec]
    loads: dict[str, Any]
    fingerprint: dict[str, Any]
    as_of: datetime.date
    _keys: pa.Table = attrs.field(repr=False)  # unmasked household ids, action, programmes

    @property
    def quarantine(self) -> pa.Table:
        """Register rows that could not be read, every register together."""
        tables = [ld.quarantine for ld in self.loads.values() if ld is not None]
        return pa.concat_tables(tables) if tables else pa.table({})

    def households(self, *, action: str | None = None, status: str | None = None) -> list[str]:
        """Unmasked ids of the households with a finding (of this action/status), sorted."""
        import pyarrow.compute as pc

        t = self._keys
        if action is not None:
            t = t.filter(pc.equal(t["action"], action))
        if status is not None:
            t = t.filter(pc.equal(t["status"], status))
        return sorted(set(t["household_id"].to_pylist()))

    def freed_places(self, programmes: Iterable[str] = PROGRAMMES) -> pa.Table:
        """Places freed by "stop payment" evidence: ``programme``, ``kecamatan``,
        ``kelurahan``, ``places`` (distinct families), one row per programme and kelurahan."""
        with connect() as con:
            con.register("k", self._keys)
            parts = [query("""SELECT CAST(__p AS VARCHAR) AS programme, kecamatan, kelurahan,
                         count(DISTINCT household_id) AS places FROM k
                         WHERE action = __stop AND status = __evidence
                           AND list_contains(programmes, __p)
                         GROUP BY kecamatan, kelurahan""", p=bind(p), stop=bind(ACTION_STOP),
                           evidence=bind(STATUS_EVIDENCE)) for p in programmes]
            if not parts:
                return pa.table({"programme": pa.array([], pa.string())})
            return relation(con, query(
                "SELECT * FROM (__u) ORDER BY programme, kecamatan, kelurahan",
                u=union_all(parts))).to_arrow_table()

    def summary(self) -> pa.Table:
        """Counts by ``register``, ``match_type``, ``status``, ``action`` and ``severity``."""
        with connect() as con:
            con.register("f", self.findings)
            return con.sql("""SELECT register, match_type, status, action, severity,
                                         count(*) AS findings,
                                         count(DISTINCT household_id) AS households
                                  FROM f GROUP BY ALL ORDER BY ALL""").to_arrow_table()

    def _repr_html_(self) -> str:
        from ..display import table_html

        return table_html(self.summary(), title="Reconciliation", facts=[
            ("findings", self.findings.num_rows),
            ("households", len(set(self.findings.column("household_id").to_pylist())))])

    def to_pandas(self) -> Any:
        return self.findings.to_pandas()

    def write(self, directory: str | Path, *, basename: str = "reconciliation") -> list[Path]:
        """Write the findings as CSV and XLSX (findings, summary, freed places, quarantine)."""
        from ..safecells import write_csv
        from ..workbook import write_workbook

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        csv_path = write_csv(self.findings, out / f"{basename}.csv")
        xlsx_path = write_workbook(out / f"{basename}.xlsx", {
            "findings": self.findings, "summary": self.summary(),
            "freed places": self.freed_places(), "register quarantine": self.quarantine})
        return [csv_path, xlsx_path]


# -- matching ---------------------------------------------------------------------------------

def _by_role_sql(spec: RegisterSpec, which: str) -> Query:
    """The action or severity of a match of person ``p`` of ``rp``, by their role."""
    head, member = ((spec.action_head, spec.action_member) if which == "action"
                    else (spec.severity_head, spec.severity_member))
    return query("CAST(CASE WHEN p.is_head_or_sole THEN __head ELSE __member END AS VARCHAR)",
                 head=bind(head), member=bind(member))


def reconcile(engine: Engine, households: Any, persons: Any = None, *,
              registers: Mapping[str, Any], as_of: datetime.date | str | None = None,
              adapters: Mapping[str, Any] | None = None,
              programmes: Sequence[str] = PROGRAMMES, unmask: bool = False) -> Reconciliation:
    """Match the recipients of a population against reference registers.

    Args:
        engine: the loaded engine (its registers and its fingerprint).
        households: the households table (Arrow, DataFrame, DuckDB relation) or the
            ``LoadResult`` of ``engine.read`` (then ``persons`` may be omitted). Recipients are
            households with any ``receives_<programme>`` true.
        persons: the persons table (all members; the whole population is used to tell whether a
            register NIK belongs to someone known).
        registers: register name → source: a path, DataFrame, Arrow table or ``LoadResult``,
            with the register's canonical columns (or read through ``adapters[name]``).
        as_of: the reconciliation date (register records dated after it do not count);
            default today.
        adapters: register name → adapter object or the name of an adapter ``engine`` knows.
        programmes: the programmes whose ``receives_*`` flags make a recipient.
        unmask: also return the raw ids in ``household_id_unmasked`` and ``nik_unmasked``.

    Returns:
        The :class:`Reconciliation`.

    Raises:
        DataError: an unknown register, or a source that cannot be read at all.
        PluginError: an invalid register declaration or an unknown adapter name.
    """
    as_of = _as_date(as_of)
    specs = load_registers(engine)
    hh, pp = recipient_tables(households, persons)
    fingerprint = engine.fingerprint(as_of)
    fp_json = json.dumps(fingerprint, sort_keys=True, ensure_ascii=False)
    with connect() as con:
        con.register("hh_in", hh)
        con.register("pp_in", pp)
        recv = [p for p in programmes if f"receives_{p}" in hh.column_names]
        if not recv:
            raise DataError(f"the households table has none of the columns "
                            f"{', '.join('receives_' + p for p in programmes)}")
        progs = query("list_filter([__each], lambda x: x IS NOT NULL)", each=[
            query("CASE WHEN coalesce(__flag, false) THEN CAST(__p AS VARCHAR) END",
                  flag="receives_" + p, p=bind(p)) for p in recv])
        run(con, query("""
            CREATE TEMP TABLE rh AS
            SELECT id AS household_id, kecamatan, kelurahan, __progs AS programmes
            FROM hh_in WHERE len(__progs) > 0""", progs=progs))
        run(con, query("""
            CREATE TEMP TABLE rp AS
            WITH m AS (
                SELECT p.nik, wr_nik(p.nik) AS nik16, p.household_id, p.name, p.birth_date,
                       __rel AS relationship, __alive AS alive, wr_norm_name(p.name) AS nname
                FROM pp_in p JOIN rh ON p.household_id = rh.household_id)
            SELECT m.*, (relationship = 'head' OR
                         count(*) FILTER (WHERE alive) OVER (PARTITION BY household_id)
                         - CASE WHEN alive THEN 1 ELSE 0 END = 0) AS is_head_or_sole
            FROM m""",
            rel=(exp.column("relationship", "p") if "relationship" in pp.column_names
                 else exp.null()),
            alive=(query("coalesce(p.is_alive, true)") if "is_alive" in pp.column_names
                   else exp.true())))
        con.execute("CREATE TEMP TABLE known_nik AS SELECT DISTINCT wr_nik(nik) AS nik FROM pp_in "
                    "WHERE wr_nik(nik) IS NOT NULL")
        adapters = dict(adapters or {})
        loads: dict[str, Any] = {}
        parts: list[Query] = []
        for name, source in registers.items():
            if name not in specs:
                from ..errors import did_you_mean

                raise DataError(f"unknown register '{name}'{did_you_mean(name, specs)} (known: "
                                f"{', '.join(sorted(specs))})")
            spec = specs[name]
            adapter = adapters.get(name)
            if isinstance(adapter, str):
                if adapter not in engine.adapters:
                    raise PluginError(f"unknown adapter '{adapter}' for register '{name}'")
                adapter = engine.adapters[adapter]
            table, loaded, src = _read_register(spec, source, adapter)
            loads[name] = loaded
            tname = "reg_" + str(len(loads))
            con.register(tname + "_in", table)
            cols = list(spec.fields)
            record = [exp.PropertyEQ(
                this=exp.to_identifier(c, quoted=True),
                expression=(query("wr_mask(__c)", c=c).tree
                            if is_masked_field(c) and not unmask
                            else exp.column(c, quoted=True))) for c in cols]
            in_force = (query("__f IS NULL OR __f <= __as_of", f=spec.in_force_field,
                              as_of=bind(as_of)) if spec.in_force_field else exp.true())
            run(con, query("""
                CREATE TEMP TABLE __t AS
                SELECT *, __nik AS _nik, __nname AS _nname, CAST(__key AS VARCHAR) AS _key,
                       to_json({__record}) AS _record
                FROM (SELECT *, row_number() OVER () AS _row FROM __t_in) WHERE __in_force""",
                t=tname, t_in=tname + "_in", record=record, in_force=in_force,
                nik=query("wr_nik(nik)") if "nik" in cols else exp.null(),
                nname=query("wr_norm_name(name)") if "name" in cols else literal(""),
                key=spec.key or "_row"))
            common = [query("CAST(__v AS VARCHAR) AS register", v=bind(name)),
                      query("CAST(__v AS VARCHAR) AS register_title", v=bind(spec.title.en)),
                      query("wr_mask(r._key) AS register_key") if is_masked_field(spec.key or "")
                      and not unmask else query("r._key AS register_key"),
                      query("CAST(r._record AS VARCHAR) AS register_record"),
                      query("CAST(__v AS VARCHAR) AS register_source", v=bind(src))]
            if MATCH_NIK in spec.match:
                parts.append(query("""
                    SELECT p.household_id, p.nik, p.name, p.relationship, p.birth_date, __common,
                           'nik' AS match_type, CAST(__evidence AS VARCHAR) AS status,
                           __severity AS severity, __action AS action, 0 AS _order
                    FROM rp p JOIN __t r ON r._nik = p.nik16""", common=common, t=tname,
                    evidence=bind(STATUS_EVIDENCE), severity=_by_role_sql(spec, "severity"),
                    action=_by_role_sql(spec, "action")))
            if MATCH_HOUSEHOLD in spec.match:
                parts.append(query("""
                    SELECT h.household_id, NULL AS nik, NULL AS name, NULL AS relationship,
                           NULL::DATE AS birth_date, __common,
                           'household_id' AS match_type, CAST(__evidence AS VARCHAR) AS status,
                           CAST(__severity AS VARCHAR) AS severity,
                           CAST(__action AS VARCHAR) AS action, 1 AS _order
                    FROM rh h JOIN __t r ON CAST(r.household_id AS VARCHAR) = h.household_id""",
                    common=common, t=tname, evidence=bind(STATUS_EVIDENCE),
                    severity=bind(spec.severity_head), action=bind(spec.action_head)))
            if MATCH_NAME in spec.match:
                # A register record whose NIK belongs to someone known is about that person: a
                # namesake with the same birth date elsewhere is not flagged. A person already
                # matched by NIK in this register is not flagged again by name.
                nik_match = (query("NOT EXISTS (SELECT 1 FROM __t r2 WHERE r2._nik = p.nik16)",
                                   t=tname) if MATCH_NIK in spec.match else exp.true())
                parts.append(query("""
                    SELECT p.household_id, p.nik, p.name, p.relationship, p.birth_date, __common,
                           'name_birth_date' AS match_type, CAST(__verify AS VARCHAR) AS status,
                           'warning' AS severity, CAST(__action AS VARCHAR) AS action, 2 AS _order
                    FROM rp p JOIN __t r
                      ON r._nname = p.nname AND r.birth_date = p.birth_date
                    WHERE r._nname <> '' AND p.nname <> ''
                      AND (r._nik IS NULL OR r._nik NOT IN (SELECT nik FROM known_nik))
                      AND __nik_match""", common=common, t=tname, verify=bind(STATUS_VERIFY),
                    action=bind(ACTION_VERIFY), nik_match=nik_match))
        if not parts:
            raise DataError("no register given to reconcile against")
        run(con, query("CREATE TEMP TABLE m AS SELECT * FROM (__u)", u=union_all(parts)))
        findings = relation(con, query("""
            SELECT wr_mask(m.household_id) AS household_id, h.kecamatan, h.kelurahan,
                   array_to_string(h.programmes, ', ') AS programmes,
                   CASE WHEN m.nik IS NULL THEN NULL ELSE wr_mask(m.nik) END AS nik, m.name,
                   m.relationship, m.birth_date, m.register, m.register_title, m.register_key,
                   m.register_record, m.register_source, m.match_type, m.status, m.severity,
                   m.action,
                   CAST(CASE m.action WHEN __stop THEN __stop_id WHEN __remove THEN __remove_id
                        WHEN __verify THEN __verify_id END AS VARCHAR) AS action_id,
                   CASE m.match_type
                       WHEN 'nik' THEN 'NIK ' || wr_mask(m.nik) || ' found in ' || m.register_title
                                       || ' (record ' || coalesce(m.register_key, '?') || ')'
                       WHEN 'household_id' THEN 'No. KK found in ' || m.register_title
                                       || ' (record ' || coalesce(m.register_key, '?') || ')'
                       ELSE 'same name and birth date as a record of ' || m.register_title
                            || ' with another or no NIK (record ' || coalesce(m.register_key, '?')
                            || '): the same person? check at the kelurahan' END AS reason,
                   CAST(__as_of AS DATE) AS as_of, CAST(__fingerprint AS VARCHAR) AS fingerprint,
                   __unmasked
            FROM m JOIN rh h USING (household_id)
            ORDER BY CASE m.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                     m._order, h.kelurahan, m.household_id, m.nik, m.register, m.register_key""",
            stop=bind(ACTION_STOP), stop_id=bind(ACTIONS[ACTION_STOP]),
            remove=bind(ACTION_REMOVE), remove_id=bind(ACTIONS[ACTION_REMOVE]),
            verify=bind(ACTION_VERIFY), verify_id=bind(ACTIONS[ACTION_VERIFY]),
            as_of=bind(as_of), fingerprint=bind(fp_json),
            unmasked=[query("m.household_id AS household_id_unmasked"),
                      query("m.nik AS nik_unmasked")] if unmask else [])).to_arrow_table()
        # any other 16-digit run (a NIK typed into a name or a register's certificate number)
        findings = mask_table(findings, unmask=unmask)
        keys = con.sql("""
            SELECT m.household_id, h.kecamatan, h.kelurahan, h.programmes, m.action, m.status,
                   m.register, m.match_type
            FROM m JOIN rh h USING (household_id)""").to_arrow_table()
        return Reconciliation(findings=findings, registers={n: specs[n] for n in registers},
                              loads=loads, fingerprint=fingerprint, as_of=as_of, keys=keys)


def mask_column(values: Iterable[Any]) -> pa.Array:
    """Mask a column of NIKs / No. KK with :func:`mask_id` (None stays None)."""
    return pa.array([None if v is None else mask_id(v) for v in values], pa.string())

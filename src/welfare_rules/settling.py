"""Settling a batch's unknowns: the same sound answer as the one-record path, on every backend.

Batch backends evaluate three-valued (Kleene) logic: an outcome is unknown as soon as a blank
input it reads is unknown, even when every value that input could take gives the same outcome
(a 74-year-old woman is elderly whatever ``is_pregnant`` says). :meth:`Engine.evaluate` settles
such outcomes (:mod:`welfare_rules.unknowns`); this module makes
:func:`~welfare_rules.batch.evaluate_batch` give the same answer whatever the backend, as
orchestration after the backend ran — backends stay three-valued:

1. for each rule, the rows whose status is ``unknown`` are found in the backend's result;
2. of those, only the records with a blank in a field settling can complete
   (:func:`~welfare_rules.unknowns.completable_fields`: booleans, enums, bounded or
   threshold-compared numbers the rule reads, members included) can change — any other
   record keeps its three-valued outcome, which is then also the sound one. A known outcome
   is never re-decided: every backend's rank is unknown where a blank member could move it,
   so what is known three-valued is known for every completion;
3. those records alone are re-evaluated one by one through :meth:`Engine.evaluate` and their
   settled value and status replace the backend's.

A record :meth:`Engine.evaluate` refuses (a value outside the schema that a batch read with
``validate=False`` let through) keeps its three-valued outcome; :attr:`Settler.refused` counts
them. The same pass computes the ``<rule>__needs`` columns asked for (``needs=`` of
``evaluate_batch``): ``Decision.needs(rule)`` for each row whose outcome stays unknown.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from .backends.base import STATUS_SUFFIX, Inputs
from .errors import WelfareRulesError
from .unknowns import completable_fields, read_fields, settle_cache

if TYPE_CHECKING:
    from .views import DecisionView, EngineView

__all__ = ["NEEDS_SUFFIX", "Settler"]

#: the suffix of a ``<rule>__needs`` column: the blank inputs that would decide the outcome
NEEDS_SUFFIX = "__needs"
_NEEDS_TYPE = pa.list_(pa.string())


class Settler:
    """Re-decides a batch result's unknown outcomes through the one-record path.

    Attributes:
        settled: how many (record, rule) outcomes changed from unknown to known — members'
            outcomes included.
        evaluated: how many records were re-evaluated.
        refused: how many of them :meth:`Engine.evaluate` refused (kept three-valued).
    """

    def __init__(self, engine: EngineView, entity: str, as_of: datetime.date, inputs: Inputs,
                 needs: Sequence[str] = ()) -> None:
        self.engine = engine
        self.entity = entity
        self.as_of = as_of
        self.needs = list(needs)
        self._inputs = inputs
        ent = engine.schema.entity(entity)
        self._key = ent.key
        self._rel = next(iter(ent.relations.values()), None)
        self._decisions: dict[Any, DecisionView | None] = {}
        self._blank_own: dict[str, set[Any]] = {}
        self._blank_member: dict[str, set[Any]] = {}
        self._tables: tuple[pa.Table | None, pa.Table | None] | None = None
        self.settled = 0
        self.evaluated = 0
        self.refused = 0
        #: record key → the checks (of the record or its members) whose outcome settling
        #: changed there: their findings are the decision's (:meth:`findings`)
        self._checks: dict[Any, set[str]] = {}

    # -- which records can change -------------------------------------------------------------

    def _input_tables(self) -> tuple[pa.Table | None, pa.Table | None]:
        if self._tables is None:
            own = self._inputs.arrow(self.entity)
            kids = self._inputs.arrow(self._rel.entity) if self._rel is not None else None
            self._tables = (own, kids)
        return self._tables

    def _blank_keys(self, own: Iterable[str], member: Iterable[str]) -> set[Any]:
        """The keys of the records with a blank in one of ``own`` or a member with a blank in
        one of ``member`` (a column the input lacks is blank everywhere)."""
        tbl, kids = self._input_tables()
        out: set[Any] = set()
        for f in own:
            hit = self._blank_own.get(f)
            if hit is None:
                hit = set()
                if tbl is not None:
                    keys = tbl.column(self._key)
                    hit = set((keys if f not in tbl.column_names else
                               keys.filter(pc.is_null(tbl.column(f)))).to_pylist())
                self._blank_own[f] = hit
            out |= hit
        for f in member:
            hit = self._blank_member.get(f)
            if hit is None:
                hit = set()
                if kids is not None and self._rel is not None:
                    parents = kids.column(self._rel.key)
                    hit = set((parents if f not in kids.column_names else
                               parents.filter(pc.is_null(kids.column(f)))).to_pylist())
                self._blank_member[f] = hit
            out |= hit
        return out

    # -- the one-record path ------------------------------------------------------------------

    def _decide(self, keys: Iterable[Any]) -> None:
        """Evaluate the records of ``keys`` not evaluated yet."""
        todo = [k for k in dict.fromkeys(keys) if k not in self._decisions]
        if not todo:
            return
        tbl, kids = self._input_tables()
        if tbl is None:
            return
        wanted = pa.array(todo, tbl.column(self._key).type)
        rows = tbl.filter(pc.is_in(tbl.column(self._key), value_set=wanted)).to_pylist()
        members: dict[Any, list[dict[str, Any]]] = {}
        # the schema's fields only, as the backends read them: a column the batch carries
        # (a survey weight) is no unknown field to warn about once per re-decided record
        own_fields = self.engine.schema.entity(self.entity).fields
        if self._rel is not None and kids is not None:
            kid_fields = self.engine.schema.entity(self._rel.entity).fields
            sel = kids.filter(pc.is_in(kids.column(self._rel.key),
                                       value_set=wanted.cast(kids.column(self._rel.key).type)))
            for m in sel.to_pylist():
                members.setdefault(m.get(self._rel.key), []).append(
                    {k: v for k, v in m.items() if k in kid_fields or k == self._rel.key})
        for row in rows:
            key = row.get(self._key)
            record = {k: v for k, v in row.items() if k in own_fields}
            if self._rel is not None:
                record[self._rel.name] = members.get(key, [])
            self.evaluated += 1
            try:
                self._decisions[key] = self.engine.evaluate(self.entity, record, self.as_of,
                                                            strict=False)
            except WelfareRulesError:  # refused by the record contract: stays three-valued
                self._decisions[key] = None
                self.refused += 1
        for k in todo:
            self._decisions.setdefault(k, None)

    # -- the passes -----------------------------------------------------------------------------

    def results(self, tbl: pa.Table, rule_ids: Sequence[str]) -> pa.Table:
        """The results with unknown outcomes settled and the ``<rule>__needs`` columns added.

        Record by record: every rule a record is a candidate for is settled while that
        record's completions are kept (:func:`~welfare_rules.unknowns.settle` evaluates each
        completion once for all of them), then they are dropped, so memory stays bounded by
        one record's completions."""
        keys = tbl.column(self._key).to_pylist()
        position = {k: i for i, k in enumerate(keys)}
        todo: dict[Any, list[str]] = {}  # record key → the rules it is a candidate for
        for rid in rule_ids:
            rule = self.engine.rule(rid, self.as_of)
            candidates = self._unknown_keys(tbl, rid, keys) & self._blank_keys(
                *completable_fields(self.engine, rule))
            for k in candidates:
                todo.setdefault(k, []).append(rid)
        self._decide(todo)
        decided: dict[str, dict[int, tuple[Any, str] | None]] = {rid: {} for rid in rule_ids}
        for k, rids in todo.items():
            d = self._decisions.get(k)
            for rid in rids:
                decided[rid][position[k]] = None if d is None else (d.value(rid),
                                                                     d.status(rid))
            self._forget((d,))
        tbl = self._write(tbl, decided, keys)
        for rid in self.needs:
            tbl = self._needs_column(tbl, rid, keys)
        return tbl

    def members(self, tbl: pa.Table, rule_ids: Sequence[str]) -> pa.Table:
        """The member results with unknown outcomes settled within each household (household
        by household, as :meth:`results`)."""
        if self._rel is None:
            return tbl
        child_key = self.engine.schema.entity(self._rel.entity).key
        parents = tbl.column(self._rel.key).to_pylist()
        ids = tbl.column(child_key).to_pylist()
        todo: dict[Any, list[tuple[int, str]]] = {}  # household → (member row, rule)
        for rid in rule_ids:
            rule = self.engine.rule(rid, self.as_of)
            st = tbl.column(rid + STATUS_SUFFIX)
            mask = pc.fill_null(pc.equal(st.cast(pa.string()), "unknown"), False)
            blank = self._blank_keys(*completable_fields(self.engine, rule, member=True))
            rows = [i for i, u in enumerate(mask.to_pylist()) if u and parents[i] in blank]
            for i in rows:
                todo.setdefault(parents[i], []).append((i, rid))
        self._decide(todo)
        decided: dict[str, dict[int, tuple[Any, str] | None]] = {rid: {} for rid in rule_ids}
        for p, asked in todo.items():
            d = self._decisions.get(p)
            kids: Sequence[DecisionView] = getattr(d, "members", ()) if d else ()
            for i, rid in asked:
                same = [m for m in kids if m.record.get(child_key) == ids[i]]
                # a person key not unique in the household: left as is
                m = same[0] if len(same) == 1 else None
                decided[rid][i] = None if m is None else (m.value(rid), m.status(rid))
            self._forget((d,))
        return self._write(tbl, decided, parents)

    def _write(self, tbl: pa.Table, decided: Mapping[str, Mapping[int, tuple[Any, str] | None]],
               keys: Sequence[Any]) -> pa.Table:
        """Write the settled outcomes that differ into ``tbl`` (row ``i`` is of the record
        ``keys[i]``), noting the records where a check's outcome changed."""
        for rid, got in decided.items():
            if not got:
                continue
            changes = self._changes(tbl, rid, got)
            if changes and self.engine.rule(rid, self.as_of).kind == "check":
                for i in changes:
                    self._checks.setdefault(keys[i], set()).add(rid)
            tbl = self._apply(tbl, rid, changes)
        return tbl

    def findings(self, tbl: pa.Table) -> pa.Table:
        """The backend's findings (:data:`~welfare_rules.backends.base.FINDINGS_SCHEMA`) with
        those of every check settling changed replaced by the settled decision's, so the
        findings say what the settled results say. Call it after :meth:`results` and
        :meth:`members`."""
        if not self._checks:
            return tbl
        drop = {(rid, str(k)) for k, rids in self._checks.items() for rid in rids}
        keep = [(c, r) not in drop for c, r in zip(tbl.column("check").to_pylist(),
                                                    tbl.column("record_id").to_pylist(),
                                                    strict=True)]
        rows = tbl.filter(pa.array(keep, pa.bool_())).to_pylist()
        for k, rids in self._checks.items():
            d = self._decisions.get(k)
            for f in getattr(d, "findings", ()) if d is not None else ():
                if f.check in rids:
                    rows.append({"check": f.check, "severity": f.severity, "entity": f.entity,
                                 "record_id": f.record_id, "member_id": f.member_id,
                                 "message": f.message})
        return pa.Table.from_pylist(rows, schema=tbl.schema)

    def _changes(self, tbl: pa.Table, rid: str,
                 decided: Mapping[int, tuple[Any, str] | None]) -> dict[int, tuple[Any, str]]:
        """The rows whose settled (value, status) differs from the backend's (``None``: a
        record refused, left as is)."""
        statuses = tbl.column(rid + STATUS_SUFFIX).cast(pa.string())
        values = tbl.column(rid) if rid in tbl.column_names else None
        out = {}
        for i, got in decided.items():
            if got is None:
                continue
            v, s = got
            if s != statuses[i].as_py() or (values is not None and v != values[i].as_py()):
                out[i] = (v, s)
        return out

    def _forget(self, decided: Iterable[DecisionView | None]) -> None:
        """Drop the completions kept on decisions once their record was settled (memory stays
        bounded by one record's completions; its rules and members share them)."""
        for d in decided:
            if d is not None:
                settle_cache(d).clear()  # a member's rules are settled on the household's

    def _unknown_keys(self, tbl: pa.Table, rid: str, keys: Sequence[Any]) -> set[Any]:
        st = tbl.column(rid + STATUS_SUFFIX).cast(pa.string())
        mask = pc.fill_null(pc.equal(st, "unknown"), False).to_pylist()
        return {k for k, u in zip(keys, mask, strict=True) if u}

    def _apply(self, tbl: pa.Table, rid: str, changes: Mapping[int, tuple[Any, str]]
               ) -> pa.Table:
        if not changes:
            return tbl
        self.settled += len(changes)
        statuses = tbl.column(rid + STATUS_SUFFIX).cast(pa.string()).to_pylist()
        for i, (_, s) in changes.items():
            statuses[i] = s
        if rid in tbl.column_names:  # outputs= may have asked for the status alone
            values = tbl.column(rid).to_pylist()
            for i, (v, _) in changes.items():
                values[i] = v
            ty = tbl.column(rid).type
            try:
                col = pa.array(values, type=ty)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                col = pa.array(values).cast(ty)
            tbl = tbl.set_column(tbl.column_names.index(rid), rid, col)
        sname = rid + STATUS_SUFFIX
        return tbl.set_column(tbl.column_names.index(sname), sname, pa.array(statuses))

    def _needs_column(self, tbl: pa.Table, rid: str, keys: Sequence[Any]) -> pa.Table:
        """``<rid>__needs``: for an outcome still unknown, the blank inputs that would decide
        it (``Decision.needs``); empty when it is known; null where the record was refused."""
        rule = self.engine.rule(rid, self.as_of)
        unknown = self._unknown_keys(tbl, rid, keys)
        candidates = unknown & self._blank_keys(*read_fields(self.engine, rule))
        self._decide(candidates)
        out: list[list[str] | None] = []
        for k in keys:
            if k not in candidates:
                out.append([])
                continue
            d = self._decisions.get(k)
            out.append(None if d is None else d.needs(rid))
        where = tbl.column_names.index(rid + STATUS_SUFFIX) + 1
        return tbl.add_column(where, rid + NEEDS_SUFFIX, pa.array(out, _NEEDS_TYPE))

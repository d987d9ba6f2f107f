"""The engine core: assembles plugins into a checked rule model and evaluates records.

This is the engine layer (docs/architecture.md): it reads the plan, the backends and the model
and nothing above them. What an evaluated record becomes — a
:class:`~welfare_rules.decision.Decision` with its explanations — and how a table of records is
run (:mod:`welfare_rules.batch`) are faces; the public :class:`welfare_rules.engine.Engine`
adds them on top of :class:`EngineCore`, so the faces call the engine and never the reverse.

:meth:`EngineCore.load` builds everything once: the plugin manager, the schema, parameters and
rules layered national → province → city (a later layer replaces a rule or parameter only when
it declares ``overrides``), the dependency graph (a cycle is a load error naming it) and the
type check of every expression. All errors of all files are reported together.

An engine is immutable and safe to share between threads. Compiled Python code is cached per
*selection* (which dated version of each rule is in force), so evaluating many records for one
``as_of`` compiles once.
"""

from __future__ import annotations

import abc
import datetime
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import attrs

from . import types as t
from ._yaml import Positions
from .adapters.record import RecordContract, contract_for
from .backends.base import Backend
from .backends.fused import FusedRun, fused_run
from .backends.python import Compiled, RecordPlan, compile_plan, missing_params, rule_nodes
from .backends.record import RecordResult
from .bounds import check_bounds
from .errors import (
    CycleError,
    ErrorGroup,
    EvaluationError,
    InputProblem,
    LocatedError,
    Location,
    ParameterError,
    PluginError,
    RuleLoadError,
    RuleTypeError,
    did_you_mean,
)
from .expr import nodes as n
from .expr.check import Checker, Env, Refs
from .expr.functions import Function
from .loading import load_parameter_files, load_rules
from .model import WHAT_IF, Parameter, Rule, RuleSet
from .plan import EntityPlan, Plan, RuleModel, UnknownRuleError, as_of_date
from .plugins import PluginInfo, call_contributions, get_plugin_manager, resolve_plugins
from .reform import Reform, load_reform
from .schema import Origin, Schema, SchemaBuilder
from .wording import template_names

if TYPE_CHECKING:
    from .adapters.result import LoadResult


__all__ = ["Contribution", "EngineCore", "UnknownRuleError"]

#: what :meth:`EngineCore.evaluate` gives for one record (the public engine: a Decision)
ResultT = TypeVar("ResultT", bound=RecordResult)


@attrs.frozen
class Contribution:
    """One thing a plugin contributed (for ``welfare-rules plugins``)."""

    plugin: str
    kind: str  # schema, rules, parameters, function, adapter, rule_tests, register, backend
    name: str
    file: str = ""


def _origin(info: PluginInfo, file: str = "") -> Origin:
    return Origin(info.name, info.version, file)


class EngineCore(abc.ABC, Generic[ResultT]):
    """A loaded, checked set of rules, ready to evaluate. Create it with :meth:`load`.

    What one evaluated record becomes is :meth:`decide`'s: the public
    :class:`welfare_rules.engine.Engine` makes it a Decision.
    """

    def __init__(self, *, schema: Schema, rules: Mapping[str, tuple[Rule, ...]],
                 parameters: Mapping[str, Parameter], functions: Mapping[str, Function],
                 adapters: Mapping[str, Any], plugins: Sequence[PluginInfo],
                 contributions: Sequence[Contribution], refs: Mapping[tuple[str, int], Refs],
                 rule_types: Mapping[str, t.Type], order: Sequence[str],
                 rule_tests: Sequence[tuple[Path, str]], registers: Mapping[str, Any],
                 backends: Mapping[str, Backend] | None = None,
                 reform: Reform | None = None):
        self.reform = reform  # the reform applied as the last layer, if any
        #: the checked rule model (schema, rules, parameters, functions, refs, types, order)
        self.model = RuleModel(
            schema=schema, rules=rules, parameters=parameters, functions=functions, refs=refs,
            rule_types=rule_types, order=order, plugins=[(p.name, p.version) for p in plugins],
            fingerprint_extra={"reform": reform.fingerprint()} if reform is not None else None)
        self.schema = schema
        self.rules = self.model.rules
        self.parameters = self.model.parameters
        self.functions = self.model.functions
        self.adapters = dict(adapters)
        self.plugins = list(plugins)
        self.contributions = list(contributions)
        self.refs = self.model.refs
        self.rule_types = self.model.rule_types
        self.order = self.model.order
        self.rule_tests = list(rule_tests)
        self.registers = dict(registers)
        #: the batch backends registered by plugins (``register_backends``), by name
        self.backends: dict[str, Backend] = dict(backends or {})
        self._param_index = self.model.param_index
        self._lock = threading.Lock()
        self._compiled: dict[tuple[str, tuple[tuple[str, int], ...], frozenset[str]],
                             Compiled] = {}
        self._plans: dict[tuple[str, datetime.date], RecordPlan] = {}
        self._reads: dict[tuple[str, datetime.date], frozenset[str]] = {}
        # what evaluate() needs per (entity, day), in one lookup: the plan, the record
        # contract, the relations the rules in force read and the fused evaluation
        self._hot: dict[tuple[str, datetime.date],
                        tuple[RecordPlan, RecordContract, frozenset[str], FusedRun]] = {}

    # ------------------------------------------------------------------------------------------
    # Loading

    @classmethod
    def load(cls, plugins: Iterable[Any] | str | None = None, *,
             rules: Iterable[str | Path] | str | Path | None = None,
             parameters: Mapping[str, Any] | None = None,
             reform: str | Path | Mapping[str, Any] | Reform | None = None,
             builtins: bool = True, national: bool = True) -> Self:
        """Load the national pack, the given plugins and extra rule files, and check them.

        Args:
            plugins: entry-point names of installed plugins (``"kota-pekalongan"``), modules,
                plugin objects, or ``"installed"`` for every installed plugin that
                ``WELFARE_RULES_PLUGINS`` allows. ``None``: national rules only.
            rules: extra ruleset files or folders, loaded as the top layer (they may override).
            parameters: parameter values that replace the loaded ones on every date, for
                what-if work: ``{"pkh.elderly_age": 70}``.
            reform: a reform file (or a :class:`~welfare_rules.reform.Reform`), applied as
                the last layer: its parameter changes and overriding rule files
                (:mod:`welfare_rules.reform`).
            builtins: register the built-ins (national schema, functions, canonical adapter)
                and the national pack; off, only the given plugins are loaded.
            national: register the national rules and parameters (off: the schema and the
                functions only, for a pack of one's own).

        Raises:
            ErrorGroup: one or more located errors in the schema, rules or parameters.
            PluginError: a plugin cannot be found or loaded, a hook is misspelled, or two
                plugins contribute the same thing without ``overrides``.
        """
        rf = load_reform(reform) if reform is not None else None
        infos = resolve_plugins(plugins)
        pm, infos = get_plugin_manager(infos, builtins=builtins, national=national)
        return _Loader(pm, infos, rf).load(cls, rules, parameters)

    # ------------------------------------------------------------------------------------------
    # Introspection

    def rule(self, rule_id: str, as_of: datetime.date | None = None) -> Rule:
        """The rule with this id (the version in force on ``as_of``, else the latest).

        Raises:
            UnknownRuleError: no rule has this id.
        """
        return self.model.rule(rule_id, as_of)

    def visible_rule_ids(self, entity: str | None = None) -> list[str]:
        """Ids of the rules users see (named criteria included, hidden ones not), in order."""
        return self.model.visible_rule_ids(entity)

    def entity_of(self, rule_id: str) -> str:
        return self.rule(rule_id).entity

    def parameter(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            raise ParameterError(f"unknown parameter '{name}'"
                                 f"{did_you_mean(name, self.parameters)}", name) from None

    def rule_refs(self, rule: Rule) -> Refs:
        """What a rule reads: fields, rules, parameters, member fields and rules."""
        return self.model.rule_refs(rule)

    def fingerprint(self, as_of: datetime.date | None = None, *,
                    dataset_checks: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What a decision depends on: plugins and versions, rulesets, a digest of every rule
        and parameter, the dataset checks in force and ``as_of`` — enough to reproduce it.

        Args:
            as_of: the evaluation date.
            dataset_checks: the dataset-level check definitions a batch ran with (their ids
                and a digest of their definitions go in); ``None`` when none ran.
        """
        return self.model.fingerprint(as_of, dataset_checks=dataset_checks)

    def plan(self, as_of: datetime.date | str | None = None) -> Plan:
        """The rules in force on ``as_of`` with that date's parameter values (default today):
        what every backend compiles from."""
        return self.model.plan(as_of_date(as_of))

    # ------------------------------------------------------------------------------------------
    # Evaluation

    def evaluate(self, entity: str, record: Mapping[str, Any],
                 as_of: datetime.date | str | None = None, *, strict: bool = True,
                 on_invalid: str = "raise") -> ResultT:
        """Evaluate every rule of ``entity`` in force on ``as_of`` for one record.

        Args:
            entity: ``"household"``, ``"person"``, ``"institution"`` or a plugin's entity.
            record: a mapping of fields; a household's ``members`` is a list of person
                mappings. Missing fields are unknown, never errors. Every value is checked
                against the schema (the record contract, ``docs/data.md``): ``"2"`` for an int
                field is 2, ``"2024-07-01"`` a date, ``"ya"``/``"tidak"`` a yes/no.
            as_of: the evaluation date (parameters and rules in force), a date or
                ``YYYY-MM-DD``; default today.
            strict: a field the schema does not declare is an error (True) or a warning.
            on_invalid: ``"raise"``, or ``"unknown"``: an invalid value is taken as missing and
                reported as an ``input.invalid`` finding.

        Raises:
            InputError: invalid values, unknown fields, or members missing although the rules
                read them — every problem of the record at once.
            EvaluationError: unknown entity, or a UNIQUE/ANY decision table violated.
            ParameterError: a rule needs a parameter that has no value on ``as_of``.
        """
        # the class tests are the fast path of a hot loop
        day = as_of if as_of.__class__ is datetime.date else as_of_date(as_of)
        plan, contract, needed, fused = self._hot.get((entity, day)) or \
            self._hot_entry(entity, day)
        if on_invalid == "raise":
            # a complete, canonical record: contract and rules in one pass (backends/fused.py)
            out = fused(record, plan.params, day)
            if out:
                return self.decide(entity, record, day, plan, out[0], out[1], ())
        if record.__class__ is not dict and not isinstance(record, Mapping):
            raise EvaluationError(f"a record is a mapping of fields, found "
                                  f"{type(record).__name__}")
        problems: tuple[InputProblem, ...] = ()
        if on_invalid == "raise" and contract.fast(record) and needed <= record.keys():
            rec = record  # what check() gives back for it, without building it
        else:
            checked = contract.check(record, strict=strict, on_invalid=on_invalid,
                                     relations_needed=needed)
            rec, problems = checked.record, checked.problems
        values, members = plan.compiled.run(rec, plan.params, day)
        return self.decide(entity, rec, day, plan, values, members, problems)

    @abc.abstractmethod
    def decide(self, entity: str, record: Mapping[str, Any], as_of: datetime.date,
               plan: RecordPlan, values: list[Any], members: Sequence[Any],
               problems: Sequence[InputProblem]) -> ResultT:
        """What one evaluated record becomes: the compiled code's slot ``values`` (and each
        member's) for the checked ``record``, with the invalid inputs taken as unknown
        (``problems``). The public :class:`~welfare_rules.engine.Engine` makes it a
        :class:`~welfare_rules.decision.Decision`."""

    def _hot_entry(self, entity: str, day: datetime.date
                   ) -> tuple[RecordPlan, RecordContract, frozenset[str], FusedRun]:
        plan = self._plans.get((entity, day)) or self._plan(entity, day)
        contract = contract_for(self.schema, entity)
        hot = (plan, contract, self._relations_read(entity, day, plan),
               fused_run(plan.compiled, contract))
        if len(self._hot) > 512:
            self._hot.clear()
        self._hot[(entity, day)] = hot
        return hot

    def _relations_read(self, entity: str, as_of: datetime.date, plan: RecordPlan
                        ) -> frozenset[str]:
        """The relations (``members``) that the rules of ``entity`` in force read."""
        hit = self._reads.get((entity, as_of))
        if hit is None:
            hit = frozenset(rel for r in plan.rules.values() if r.entity == entity
                            for rel in self.rule_refs(r).relations)
            self._reads[(entity, as_of)] = hit
        return hit

    def relation_reads(self, entity: str, as_of: datetime.date | str | None = None
                       ) -> dict[str, tuple[str, ...]]:
        """The relations (``members``) the rules of ``entity`` in force on ``as_of`` read, each
        with the ids of the rules that read it: what a caller must give besides the records.

        Raises:
            EvaluationError: an unknown entity.
        """
        if entity not in self.schema.entities:
            raise EvaluationError(f"unknown entity '{entity}'"
                                  f"{did_you_mean(entity, self.schema.entities)}")
        out: dict[str, list[str]] = {}
        for rid, rule in self.in_force(as_of_date(as_of)).items():
            if rule.entity == entity:
                for rel in sorted(self.rule_refs(rule).relations):
                    out.setdefault(rel, []).append(rid)
        return {rel: tuple(ids) for rel, ids in out.items()}

    def read(self, source: Any, adapter: str | Any | None = None, **kwargs: Any
             ) -> LoadResult:
        """Read a source (file, DataFrame, Arrow table, SQL) into canonical records.

        Args:
            source: what to read (see :func:`welfare_rules.adapters.read`).
            adapter: the name of a registered adapter (``"kota-pekalongan"``), an adapter
                object, or ``None`` for the canonical one-table-per-entity layout.

        Returns:
            A :class:`welfare_rules.adapters.LoadResult`: ``tables``, ``quarantine`` and the
            counts ``rows_read == rows_valid + rows_quarantined``.
        """
        from .adapters import read

        if isinstance(adapter, str):
            if adapter not in self.adapters:
                from .plugins import installed_entry_points

                hint = ""
                if any(ep.name == adapter for ep in installed_entry_points()):
                    hint = (f"; the installed plugin '{adapter}' is not loaded: "
                            f"Engine.load(plugins=['{adapter}']) or -p {adapter}")
                raise PluginError(f"unknown adapter '{adapter}'"
                                  f"{did_you_mean(adapter, self.adapters)} (registered: "
                                  f"{', '.join(sorted(self.adapters))}){hint}", adapter)
            adapter = self.adapters[adapter]
        loaded: LoadResult = read(source, self.schema, adapter=adapter,  # type: ignore[arg-type]
                                  **kwargs)
        return loaded

    # ------------------------------------------------------------------------------------------
    # Plans and compilation

    def in_force(self, as_of: datetime.date) -> dict[str, Rule]:
        """The version of each rule in force on ``as_of``, by id."""
        return self.model.in_force(as_of)

    def params_at(self, as_of: datetime.date) -> tuple[list[Any], dict[str, datetime.date | None]]:
        """Parameter values on ``as_of`` (see :meth:`RuleModel.params_at`)."""
        return self.model.params_at(as_of)

    def entity_plan(self, entity: str, in_force: Mapping[str, Rule]) -> EntityPlan:
        """The dependency structure of ``entity`` for these rules in force."""
        return self.model.entity_plan(entity, in_force)

    def _plan(self, entity: str, as_of: datetime.date) -> RecordPlan:
        key = (entity, as_of)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        if entity not in self.schema.entities:
            raise EvaluationError(f"unknown entity '{entity}'"
                                  f"{did_you_mean(entity, self.schema.entities)}")
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                return plan
            base = self.model.plan(as_of)
            ckey = (entity, base.selection, missing_params(base))
            compiled = self._compiled.get(ckey)
            if compiled is None:
                compiled = compile_plan(base, entity)
                self._compiled[ckey] = compiled
            plan = RecordPlan.of(base, compiled)
            if len(self._plans) > 512:
                self._plans.clear()
            self._plans[key] = plan
            return plan


EngineT = TypeVar("EngineT", bound=EngineCore[Any])


class _Loader:
    """One :meth:`Engine.load`: collects contributions and checks them together."""

    def __init__(self, pm: Any, infos: list[PluginInfo], reform: Reform | None = None):
        self.pm = pm
        self.infos = infos
        self.reform = reform
        self.errors: list[LocatedError] = []
        self.contributions: list[Contribution] = []

    def _contrib(self, hook: str, handler: Any) -> None:
        def make_register(info: PluginInfo) -> Any:
            def register(*args: Any, **kwargs: Any) -> None:
                handler(info, *args, **kwargs)
            return register
        call_contributions(self.pm, self.infos, hook, make_register)

    def _named_once(self, kind: str, registry: dict[str, tuple[str, Any]], name: str,
                    info: PluginInfo, item: Any) -> None:
        """Register a plugin's ``kind`` (an adapter, a backend) under its name, refusing a name
        contributed twice."""
        if name in registry:
            raise PluginError(f"{kind} '{name}' is contributed twice (by "
                              f"'{registry[name][0]}' and '{info.name}')", info.name)
        registry[name] = (info.name, item)
        self.contributions.append(Contribution(info.name, kind, name))

    def load(self, cls: type[EngineT], extra_rules: Any, overrides: Mapping[str, Any] | None
             ) -> EngineT:
        # schema
        sb = SchemaBuilder()

        def on_schema(info: PluginInfo, item: Any) -> None:
            if isinstance(item, Mapping):
                sb.add_data(item, Positions(f"<{info.name} schema>"), _origin(info))
                self.contributions.append(Contribution(info.name, "schema", "(inline)"))
            else:
                sb.add_file(item, _origin(info, Path(item).name))
                self.contributions.append(Contribution(info.name, "schema", Path(item).name,
                                                       str(item)))

        self._contrib("register_schema", on_schema)
        try:
            schema = sb.build()
        except ErrorGroup as exc:
            raise ErrorGroup(exc.errors, "invalid schema") from None

        # functions
        functions: dict[str, Function] = {}

        def on_function(info: PluginInfo, fn: Function) -> None:
            if not isinstance(fn, Function):
                raise PluginError(f"plugin '{info.name}' registered {fn!r}, not a Function",
                                  info.name)
            if fn.name in functions:
                raise PluginError(f"function '{fn.name}' is contributed by both "
                                  f"'{functions[fn.name].plugin}' and '{info.name}'", info.name)
            functions[fn.name] = attrs.evolve(fn, plugin=info.name)
            self.contributions.append(Contribution(info.name, "function", fn.name))

        self._contrib("register_functions", on_function)

        # adapters
        adapters: dict[str, Any] = {}

        def on_adapter(info: PluginInfo, adapter: Any) -> None:
            name = getattr(adapter, "name", None)
            if not name:
                raise PluginError(f"plugin '{info.name}' registered an adapter without a name",
                                  info.name)
            self._named_once("adapter", adapters, name, info, adapter)

        self._contrib("register_adapters", on_adapter)

        # parameters
        params: dict[str, Parameter] = {}

        def on_params(info: PluginInfo, path: Any) -> None:
            ps, es = load_parameter_files(path, _origin(info))
            self.errors.extend(es)
            for p in ps:
                self._layer_param(params, p)
                self.contributions.append(Contribution(info.name, "parameter", p.name,
                                                       p.origin.file))

        self._contrib("register_parameters", on_params)
        if overrides:
            for name, value in overrides.items():
                if name not in params:
                    raise ParameterError(f"cannot override unknown parameter '{name}'"
                                         f"{did_you_mean(name, params)}", name)
                old = params[name]
                try:
                    converted = t.convert(value, old.type)
                except ValueError as exc:
                    raise ParameterError(f"parameter '{name}' is {old.type}; the override "
                                         f"is refused: {exc}", name) from None
                params[name] = attrs.evolve(
                    old, values=((datetime.date.min, converted),),
                    origin=Origin(WHAT_IF, "", "Engine.load(parameters=...)"), overrides=name)

        # rules
        rulesets: list[RuleSet] = []

        def on_rules(info: PluginInfo, path: Any) -> None:
            rs, es = load_rules([(path, _origin(info))])
            self.errors.extend(es)
            rulesets.extend(rs)
            for r in rs:
                self.contributions.append(Contribution(info.name, "ruleset", r.id,
                                                       r.origin.file))

        self._contrib("register_rules", on_rules)
        if extra_rules is not None:
            paths = [extra_rules] if isinstance(extra_rules, str | Path) else list(extra_rules)
            user = PluginInfo("user rules", "", "city", "Engine.load(rules=...)")
            for p in paths:
                on_rules(user, p)
            self.infos.append(user)
        if self.reform is not None:
            self.errors.extend(self.reform.apply_parameters(params))
            layer = PluginInfo(self.reform.plugin_name, "", "city", "reform")
            for p in self.reform.rule_files:
                on_rules(layer, p)
            self.infos.append(layer)

        tests: list[tuple[Path, str]] = []
        self._contrib("register_rule_tests",
                      lambda info, path: tests.append((Path(path), info.name)))
        registers: dict[str, Any] = {}

        def on_register(info: PluginInfo, name: str, spec: Any) -> None:
            old = registers.get(name)
            if old is not None and old["plugin"] != info.name and not spec.get("overrides"):
                raise PluginError(f"register '{name}' is declared by '{old['plugin']}' and by "
                                  f"'{info.name}'; declare 'overrides: true' to replace it",
                                  info.name)
            registers[name] = {**dict(spec), "plugin": info.name}
            self.contributions.append(Contribution(info.name, "register", name))

        self._contrib("register_registers", on_register)

        backends: dict[str, tuple[str, Backend]] = {}

        def on_backend(info: PluginInfo, backend: Any) -> None:
            name = getattr(backend, "name", None)
            if not name or not isinstance(backend, Backend):
                raise PluginError(f"plugin '{info.name}' registered {backend!r}, which is not a "
                                  f"backend (name, reads_parquet, native(), run())", info.name)
            self._named_once("backend", backends, name, info, backend)

        self._contrib("register_backends", on_backend)

        rules = self._layer_rules(rulesets, schema)
        refs, types_, order = self._check(schema, rules, params, functions)
        if self.errors:
            raise ErrorGroup(_dedupe(self.errors))
        return cls(schema=schema, rules=rules, parameters=params, functions=functions,
                   adapters={k: v for k, (_, v) in adapters.items()}, plugins=self.infos,
                   contributions=self.contributions, refs=refs, rule_types=types_,
                   order=order, rule_tests=tests, registers=registers,
                   backends={k: v for k, (_, v) in backends.items()}, reform=self.reform)

    # -- layering -----------------------------------------------------------------------------

    def _layer_param(self, params: dict[str, Parameter], p: Parameter) -> None:
        old = params.get(p.name)
        if old is None:
            if p.overrides and p.overrides != p.name:
                self.errors.append(RuleLoadError(
                    f"parameter '{p.name}' declares overrides '{p.overrides}', which is not "
                    f"its own name", p.location))
            elif p.overrides:
                self.errors.append(RuleLoadError(
                    f"parameter '{p.name}' declares overrides but no earlier layer defines it"
                    f"{did_you_mean(p.name, params)}", p.location))
            params[p.name] = p
            return
        if p.overrides == p.name:
            params[p.name] = p
            return
        self.errors.append(RuleLoadError(
            f"parameter '{p.name}' is defined by {old.origin} and again by {p.origin}; "
            f"declare 'overrides: true' to replace it", p.location))

    def _layer_rules(self, rulesets: list[RuleSet], schema: Schema) -> dict[str, tuple[Rule,
                                                                                     ...]]:
        rules: dict[str, list[Rule]] = {}
        for rs in rulesets:
            if rs.entity not in schema.entities:
                self.errors.append(RuleLoadError(
                    f"ruleset '{rs.id}': unknown entity '{rs.entity}'"
                    f"{did_you_mean(rs.entity, schema.entities)}", Location(rs.origin.file)))
                continue
            for r in rs.rules:
                if r.parent is not None:
                    continue
                existing = rules.get(r.id)
                if r.overrides is not None:
                    target = r.overrides
                    if target != r.id:
                        self.errors.append(RuleLoadError(
                            f"rule '{r.id}' declares overrides '{target}': a rule overrides "
                            f"the rule of the same id", r.location))
                    elif not existing:
                        self.errors.append(RuleLoadError(
                            f"rule '{r.id}' declares overrides but no earlier layer defines it",
                            r.location))
                    else:
                        _remove_with_children(rules, r.id, existing[0].origin.plugin)
            for r in rs.rules:
                existing = rules.get(r.id)
                if existing:
                    clash = [e for e in existing
                             if e.origin.plugin != r.origin.plugin or _overlap(e, r)]
                    if clash:
                        e = clash[0]
                        same = e.origin.plugin == r.origin.plugin
                        why = ("with overlapping effective dates" if same else
                               f"without 'overrides: {r.id}'")
                        self.errors.append(RuleLoadError(
                            f"rule '{r.id}' is defined by {e.origin} ({e.location}) and again "
                            f"by {r.origin} {why}", r.location))
                        continue
                rules.setdefault(r.id, []).append(r)
        return {k: tuple(sorted(v, key=lambda r: r.effective_from or datetime.date.min))
                for k, v in rules.items()}

    # -- checking -----------------------------------------------------------------------------

    def _check(self, schema: Schema, rules: Mapping[str, tuple[Rule, ...]],
               params: Mapping[str, Parameter], functions: Mapping[str, Function]
               ) -> tuple[dict[tuple[str, int], Refs], dict[str, t.Type], list[str]]:
        rule_entity = {rid: vs[0].entity for rid, vs in rules.items()}
        for rid, vs in rules.items():
            if any(v.entity != vs[0].entity for v in vs):
                self.errors.append(RuleLoadError(f"rule '{rid}' has versions for different "
                                                 f"entities", vs[0].location))
        rule_types: dict[str, t.Type] = {}
        env = Env(schema, rule_entity, rule_types, {k: p.type for k, p in params.items()},
                  functions)
        # 1. dependencies (syntactic; types come later, in dependency order)
        deps: dict[str, set[str]] = {}
        pre_refs: dict[tuple[str, int], Refs] = {}
        for rid, vs in rules.items():
            deps[rid] = set()
            for i, r in enumerate(vs):
                refs = Refs()
                for node in rule_nodes(r):
                    _syntactic_refs(node, rule_entity, refs)
                pre_refs[(rid, i)] = refs
                d = set(refs.rules) | set(refs.member_rules) | set(r.children)
                d |= {lv.rule for lv in r.levels if lv.rule}
                d |= {ind.rule for ind in r.indicators}
                deps[rid] |= {x for x in d if x in rules}
        order = self._toposort(deps, rules)
        # 2. types
        refs_out: dict[tuple[str, int], Refs] = {}
        for rid in order:
            for i, r in enumerate(rules[rid]):
                try:
                    ty, refs = self._check_rule(r, env, schema)
                except LocatedError as exc:
                    self.errors.append(exc)
                    rule_types.setdefault(rid, t.ANY)
                    refs_out[(rid, i)] = pre_refs[(rid, i)]
                    continue
                refs_out[(rid, i)] = refs
                prev = rule_types.get(rid)
                if prev is not None and prev != t.ANY and not t.compatible(prev, ty):
                    self.errors.append(RuleTypeError(
                        f"rule '{rid}' has versions of different types ({prev} and {ty})",
                        r.location))
                rule_types[rid] = ty if prev is None or prev == t.ANY else t.unify(prev, ty)
        known: dict[tuple[str, ...], set[str]] = {}  # names by entities, built once each
        for vs in rules.values():
            for r in vs:
                self.errors.extend(_template_errors(r, params, schema, rule_entity, known))
        # 3. bounds: text growth and chain depth (docs/security.md)
        self.errors.extend(check_bounds(rules, order, deps, schema, params, rule_nodes))
        return refs_out, rule_types, order

    def _toposort(self, deps: Mapping[str, set[str]],
                  rules: Mapping[str, tuple[Rule, ...]]) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()
        for start in sorted(deps):
            if state.get(start):
                continue
            stack: list[tuple[str, list[str]]] = [(start, sorted(deps[start]))]
            path = [start]
            state[start] = 1
            while stack:
                node, todo = stack[-1]
                if todo:
                    nxt = todo.pop()
                    st = state.get(nxt, 0)
                    if st == 0:
                        state[nxt] = 1
                        path.append(nxt)
                        stack.append((nxt, sorted(deps.get(nxt, ()))))
                    elif st == 1:
                        cycle = [*path[path.index(nxt):], nxt]
                        key = frozenset(cycle)
                        if key not in reported:
                            reported.add(key)
                            self.errors.append(CycleError(cycle, rules[nxt][0].location))
                    continue
                state[node] = 2
                order.append(node)
                stack.pop()
                path.pop()
        return order

    def _check_rule(self, r: Rule, env: Env, schema: Schema) -> tuple[t.Type, Refs]:
        checker = Checker(env, r.entity)
        refs = Refs()

        def want_bool(node: n.Node, what: str) -> None:
            ty = checker.check(node, refs)
            if ty.kind not in ("bool", "null", "any"):
                raise RuleTypeError(f"rule '{r.id}': {what} must be a condition (true/false), "
                                    f"found {ty}", node.loc or r.location)

        if r.kind in ("condition", "check"):
            if r.mode == "when":
                assert r.expr is not None
                want_bool(r.expr, "'when'")
            elif r.mode == "at_least":
                assert r.at_least is not None
                ty = checker.check(r.at_least, refs)
                if ty.kind not in ("int", "null", "any"):
                    raise RuleTypeError(f"rule '{r.id}': at_least needs a whole number, found "
                                        f"{ty}", r.at_least.loc or r.location)
            for c in r.children:
                refs.rules.add(c)
            if r.check is not None:
                chk = r.check
                scope_entity = r.entity
                if chk.for_each:
                    ent = schema.entity(r.entity)
                    if chk.for_each not in ent.relations:
                        raise RuleLoadError(f"check '{r.id}': for_each '{chk.for_each}' is not a "
                                            f"relation of {r.entity}"
                                            f"{did_you_mean(chk.for_each, ent.relations)}",
                                            r.location)
                    scope_entity = ent.relations[chk.for_each].entity
                    agg = n.Call("any", (n.Name(chk.for_each), chk.where or n.Literal(True)),
                                 loc=chk.where.loc if chk.where else None)
                    want_bool(agg, "'where'")
                mchecker = Checker(env, scope_entity)
                for case in chk.severity:
                    if case.when is not None:
                        ty = mchecker.check(case.when, Refs())
                        if ty.kind not in ("bool", "null", "any"):
                            raise RuleTypeError(f"check '{r.id}': severity 'when' must be a "
                                                f"condition, found {ty}",
                                                case.when.loc or r.location)
            return t.BOOL, refs
        if r.kind == "value":
            assert r.expr is not None
            ty = checker.check(r.expr, refs)
            if r.declared_type is not None:
                if not t.compatible(r.declared_type, ty):
                    raise RuleTypeError(f"rule '{r.id}': declared type {r.declared_type} but "
                                        f"the value is {ty}", r.expr.loc or r.location)
                ty = r.declared_type
            return ty, refs
        if r.kind == "table":
            assert r.table is not None
            return self._check_table(r, checker, refs), refs
        if r.kind == "ladder":
            for lv in r.levels:
                if lv.rule:
                    refs.rules.add(lv.rule)
            return t.enum(tuple(lv.name for lv in r.levels)), refs
        if r.kind == "score":
            out = t.INT
            for ind in r.indicators:
                refs.rules.add(ind.rule)
                wt = checker.check(ind.weight, refs)
                if not wt.is_numeric:
                    raise RuleTypeError(f"score '{r.id}': weight must be a number, found {wt}",
                                        ind.weight.loc or r.location)
                it = env.rule_types.get(ind.rule, t.ANY)
                if not (it.is_numeric or it.kind == "bool"):
                    raise RuleTypeError(f"score '{r.id}': indicator '{ind.rule}' must be a number "
                                        f"or a condition, found {it}", r.location)
                if "decimal" in (wt.kind, it.kind):
                    out = t.DECIMAL
            return out, refs
        raise RuleLoadError(f"rule '{r.id}': unknown kind {r.kind}", r.location)

    def _check_table(self, r: Rule, checker: Checker, refs: Refs) -> t.Type:
        table = r.table
        assert table is not None
        in_types = [checker.check(e, refs) for e in table.inputs]
        out_types = [t.NULL] * len(table.outputs)
        for row in table.rows:
            for ty, test in zip(in_types, row.tests, strict=True):
                for v in (test.value, test.high):
                    if v is None:
                        continue
                    vt = checker.check(v, refs)
                    want = vt.elem if (test.op == "in" and vt.elem is not None) else vt
                    if not t.compatible(ty, want):
                        raise RuleTypeError(
                            f"table '{r.id}': test '{test.text}' compares {ty} with {want}",
                            row.location)
                    if ty.kind == "enum":
                        lits = v.items if isinstance(v, n.ListLit) else (v,)
                        for lit in lits:
                            if isinstance(lit, n.Literal) and isinstance(lit.value, str) and \
                                    lit.value not in ty.values:
                                raise RuleTypeError(
                                    f"table '{r.id}': '{lit.value}' is not a value of {ty}"
                                    f"{did_you_mean(lit.value, ty.values)}", row.location)
        # the default is one more row of outputs: 0 beside text rows is refused, as a row is
        for outputs, where in [*((row.outputs, row.location) for row in table.rows),
                               (table.default or (), r.location)]:
            for i, o in enumerate(outputs):
                ot = checker.check(o, refs)
                if not t.compatible(out_types[i], ot):
                    raise RuleTypeError(f"table '{r.id}': output '{table.outputs[i].name}' mixes "
                                        f"{out_types[i]} and {ot}", where)
                out_types[i] = t.unify(out_types[i], ot)
        for i, out in enumerate(table.outputs):
            if out.values and all(isinstance(v, str) for v in out.values):
                out_types[i] = t.enum(tuple(str(v) for v in out.values))
        if table.aggregation == "count":
            return t.INT
        if table.aggregation in ("sum", "min", "max"):
            if not out_types[0].is_numeric:
                raise RuleTypeError(f"table '{r.id}': {table.aggregation} needs numeric outputs",
                                    r.location)
            return out_types[0]
        single = t.record_of(tuple((o.name, ty) for o, ty in zip(table.outputs, out_types,
                                                                strict=True))) \
            if table.multi_output else out_types[0]
        return t.list_of(single) if table.returns_list else single


def _syntactic_refs(node: n.Node, rule_entity: Mapping[str, str], refs: Refs) -> None:
    for sub in n.walk(node):
        if isinstance(sub, n.Name) and sub.id in rule_entity:
            refs.rules.add(sub.id)


def _template_errors(r: Rule, params: Mapping[str, Parameter], schema: Schema,
                     rule_entity: Mapping[str, str],
                     names: dict[tuple[str, ...], set[str]]) -> list[LocatedError]:
    """Placeholders of a rule's title and message that name nothing: ``{param.x}`` must be a
    parameter, ``{name}`` a field or rule of the rule's entity (or of its parent's)."""
    texts = [("title", r.title.id), ("title", r.title.en)]
    if r.check is not None:
        texts += [("message", r.check.message.id), ("message", r.check.message.en)]
    ents = [r.entity]
    parent = schema.parent_of(r.entity) if r.entity in schema.entities else None
    if parent is not None:
        ents.append(parent[0].name)
    if r.entity in schema.entities:  # a check per member names the member's fields too
        ents += [rel.entity for rel in schema.entity(r.entity).relations.values()]
    known = names.get(tuple(ents))
    if known is None:
        known = {f for e in ents if e in schema.entities for f in schema.entity(e).fields}
        known |= {rid for rid, e in rule_entity.items() if e in ents}
        names[tuple(ents)] = known
    out: list[LocatedError] = []
    for what, text in texts:
        for name in template_names(text):
            if name.startswith("param."):
                pname = name[len("param."):]
                if pname not in params:
                    out.append(RuleLoadError(
                        f"rule '{r.id}': {what} names unknown parameter '{pname}'"
                        f"{did_you_mean(pname, params)}", r.location))
            elif name not in known:
                out.append(RuleLoadError(
                    f"rule '{r.id}': {what} names '{{{name}}}', which is no field or rule of "
                    f"{r.entity}{did_you_mean(name, known)}", r.location))
    return out


def _overlap(a: Rule, b: Rule) -> bool:
    a0 = a.effective_from or datetime.date.min
    b0 = b.effective_from or datetime.date.min
    a1 = a.effective_until or datetime.date.max
    b1 = b.effective_until or datetime.date.max
    return a0 < b1 and b0 < a1


def _remove_with_children(rules: dict[str, list[Rule]], rid: str, plugin: str) -> None:
    doomed = {rid}
    changed = True
    while changed:
        changed = False
        for k, vs in rules.items():
            if k not in doomed and any(v.parent in doomed and v.origin.plugin == plugin
                                       for v in vs):
                doomed.add(k)
                changed = True
    for k in doomed:
        rules.pop(k, None)


def _dedupe(errors: list[LocatedError]) -> list[LocatedError]:
    seen: set[str] = set()
    out = []
    for e in errors:
        if str(e) not in seen:
            seen.add(str(e))
            out.append(e)
    return out


def dump_json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)

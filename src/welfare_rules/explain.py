"""Explanations: why a rule came out as it did, in Indonesian or English, at two levels.

``level="summary"`` is what a data officer reads back to the family: three to ten sentences —
the decision, the reasons that decided it with their values, what is missing and who can supply
it, the legal basis — with no rule ids, expressions or parameter paths. ``level="full"`` is the
complete trace for officers: every criterion with its value, the data it read, each parameter
with its value and where that value came from (in force since a date, changed by a plugin, or a
what-if), and the basis. Both are built from one tree (:func:`explanation`), which is also what
``to_dict()`` returns for apps; text, HTML and JSON are renderings of it.

Every value is said through :mod:`wording` (booleans, enum labels, units, money and dates in the
reader's language) and every identifier of a person through the masking function, unless the
caller asks for it unmasked.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any

from . import wording
from .expr.nodes import to_source
from .masking import is_masked_field, mask_data, mask_id, mask_text
from .model import WHAT_IF
from .plugins import layering

if TYPE_CHECKING:
    from .model import Basis, Rule
    from .views import DecisionView, EngineView, RecordDecisionView

LEVELS = ("summary", "full")

_W = {
    "id": {
        "true": "YA", "false": "TIDAK", "unknown": "BELUM DIKETAHUI",
        "basis": "Dasar hukum", "policy_local": "kebijakan daerah (tanpa dasar peraturan)",
        "unverified": "dasar hukum belum terverifikasi", "no_basis": "dasar hukum belum dicatat",
        "origin": "Sumber aturan", "layers": "lapisan", "sources": "Rujukan",
        "needs": "Data yang diperlukan untuk memastikan",
        "since": "berlaku sejak", "changed_by": "diubah oleh", "what_if": "nilai uji (what-if)",
        "inputs": "data yang dipakai", "at_least": "terpenuhi jika paling sedikit {n} dari "
        "{m} kriteria terpenuhi (terpenuhi {k})", "all": "semua kriteria harus terpenuhi",
        "any": "salah satu kriteria cukup", "not": "kebalikan dari kriteria berikut",
        "next": "Untuk mencapai {level} masih perlu", "level": "tingkat",
        "member": "Anggota", "as_of": "per tanggal", "param": "Parameter",
        "blocked": "penilaian tingkat terhenti karena data belum lengkap",
        "findings": "Temuan", "did_not_matter": "{fields} kosong, tetapi tidak mengubah hasil",
        "counted": "dihitung", "not_counted": "tidak dihitung", "rank": "urutan",
        "component": "komponen", "expression": "Rumus",
    },
    "en": {
        "true": "YES", "false": "NO", "unknown": "NOT YET KNOWN",
        "basis": "Legal basis", "policy_local": "local policy (no regulation behind it)",
        "unverified": "legal basis not yet verified", "no_basis": "no legal basis recorded",
        "origin": "Rule from", "layers": "layers", "sources": "Sources",
        "needs": "Data needed to decide",
        "since": "in force since", "changed_by": "changed by", "what_if": "what-if value",
        "inputs": "data used", "at_least": "holds when at least {n} of {m} criteria hold "
        "({k} hold)", "all": "all criteria must hold", "any": "any one criterion is enough",
        "not": "the opposite of the criterion below", "next": "To reach {level} it still needs",
        "level": "level", "member": "Member", "as_of": "as of", "param": "Parameter",
        "blocked": "the level stopped climbing on missing data",
        "findings": "Findings", "did_not_matter": "{fields} left blank, but it does not change "
        "the outcome",
        "counted": "counted", "not_counted": "not counted", "rank": "rank",
        "component": "component", "expression": "Expression",
    },
}

#: how the summary names the record, per entity (fallback: the entity's label)
_THIS = {
    "id": {"household": "keluarga ini", "person": "orang ini", "institution": "lembaga ini"},
    "en": {"household": "this household", "person": "this person",
           "institution": "this institution"},
}
#: who can supply missing data, per entity
_WHO = {
    "id": {"household": "keluarga, melalui petugas verifikasi dan validasi data (verivali) "
                        "Dinas Sosial",
           "person": "keluarga, melalui petugas verivali Dinas Sosial atau data Dukcapil",
           "institution": "pengurus LKS, dengan dokumen pendukungnya"},
    "en": {"household": "the family, through the social agency's verification officer "
                        "(verivali)",
           "person": "the family, through the verification officer or the civil registry "
                     "(Dukcapil)",
           "institution": "the institution's officers, with their documents"},
}


def _lang(lang: str) -> str:
    if lang not in wording.LANGS:
        raise ValueError(f"lang must be one of {', '.join(wording.LANGS)}, found {lang!r}")
    return lang


def rule_title(d: DecisionView, rule: Rule, lang: str) -> str:
    """A rule's title in ``lang`` with its placeholders filled: ``{param.x}`` the value in
    force (with its unit, in words), ``{name}`` a field or rule value of the record."""
    return wording.render(rule.title.get(lang) or rule.id, _resolver(d, lang))


def input_label(d: DecisionView, slot: str, lang: str) -> str:
    """An input as explanations name it: ``members[1].is_pregnant`` → ``Sedang hamil (anggota
    2)``; a field of the record → its label in ``lang`` (its name when it has none)."""
    return _Builder(d, lang, False).input_label(d, slot)


def value_shown(d: DecisionView, rule: Rule, value: Any, status: str, lang: str) -> str:
    """A rule's value in words as explanations show it: a condition's status, a ladder level's
    title, a table's word for its output, a number with its unit."""
    return _Builder(d, lang, False).shown(rule, value, status)


def title_on(engine: EngineView, rule_id: str, as_of: datetime.date | None, lang: str) -> str:
    """A rule's title in ``lang`` with its ``{param.x}`` placeholders filled from the values
    in force on ``as_of`` — for table headers and lists, where there is no record (other
    placeholders stay as written)."""
    rule = engine.rule(rule_id, as_of)
    plan = engine.plan(as_of)

    def resolve(name: str, bare: bool) -> str | None:
        return _param_text(engine, plan.param, name, bare, lang)

    return wording.render(rule.title.get(lang) or rule.id, resolve)


def _param_text(engine: EngineView, value_of: Any, name: str, bare: bool, lang: str
                ) -> str | None:
    """``{param.x}`` in words (``bare``: the number alone), or ``None`` for another name."""
    if not name.startswith("param."):
        return None
    pname = name[len("param."):]
    if pname not in engine.parameters:
        return None
    v = value_of(pname)
    if bare and isinstance(v, int | float) and not isinstance(v, bool):
        return wording.number(v, lang)
    return wording.value(v, lang, unit=engine.parameters[pname].unit)


def _resolver(d: DecisionView, lang: str) -> Any:
    eng = d.engine

    def resolve(name: str, bare: bool) -> str | None:
        if name.startswith("param."):
            return _param_text(eng, d.plan.param, name, bare, lang)
        if name in d.slots:
            r = d.plan.rules.get(name)
            return wording.value(d.value(name), lang, unit=r.unit if r else "")
        fld = eng.schema.entity(d.entity).fields.get(name)
        if fld is not None:
            return _field_text(d, name, lang, unmask=False)
        return None

    return resolve


def _is_identifier(d: DecisionView, name: str) -> bool:
    return is_masked_field(name, d.entity, d.engine.schema.entity(d.entity).key)


def _field_text(d: DecisionView, name: str, lang: str, *, unmask: bool) -> str:
    """A field's value in words; identifiers and 16-digit runs in free text masked
    (:mod:`welfare_rules.masking`) unless ``unmask``."""
    v = d.record.get(name)
    if v is not None and not unmask and _is_identifier(d, name):
        return mask_id(v)
    f = d.engine.schema.entity(d.entity).fields.get(name)
    text = wording.value(v, lang, field=f)
    return text if unmask else mask_text(text)


def _basis_text(b: Basis, lang: str) -> str:
    w = _W[lang]
    if b.instrument:
        return b.instrument + (f" ({w['unverified']})" if b.unverified else "")
    if b.policy == "local":
        return w["policy_local"]
    if b.unverified:
        return w["unverified"]
    return w["no_basis"]


class _Builder:
    def __init__(self, d: DecisionView, lang: str, unmask: bool):
        self.d = d
        self.lang = _lang(lang)
        self.w = _W[self.lang]
        self.unmask = unmask
        self.eng = d.engine

    def field(self, d: DecisionView, name: str) -> dict[str, Any]:
        f = self.eng.schema.entity(d.entity).fields.get(name)
        v = d.record.get(name)
        label = (f.label.get(self.lang) if f else "") or name
        return {"name": name, "label": label, "value": _json_value(v) if self.unmask else mask_id(v)
                if _is_identifier(d, name) else mask_data(_json_value(v)),
                "shown": _field_text(d, name, self.lang, unmask=self.unmask),
                "missing": v is None}

    def param(self, name: str) -> dict[str, Any]:
        p = self.eng.parameters[name]
        since = self.d.plan.param_since.get(name)
        value = self.d.plan.param(name)
        if p.origin.plugin == WHAT_IF:
            where = self.w["what_if"]
        elif p.overrides:
            where = f"{self.w['changed_by']} {p.origin.plugin}"
            if since and since > datetime.date.min:
                where += f", {self.w['since']} {wording.date(since, self.lang)}"
        elif since and since > datetime.date.min:
            where = f"{self.w['since']} {wording.date(since, self.lang)}"
        else:
            where = ""
        return {"name": name, "title": wording.render(p.title.get(self.lang) or name,
                                                      _resolver(self.d, self.lang)),
                "value": _json_value(value), "shown": wording.value(value, self.lang,
                                                                    unit=p.unit),
                "since": since.isoformat() if since and since > datetime.date.min else None,
                "where": where, "basis": _basis_text(p.basis, self.lang),
                "sources": list(p.basis.sources) or ([p.reference] if p.reference else []),
                "origin": str(p.origin)}

    def node(self, d: DecisionView, rule_id: str) -> dict[str, Any]:
        rule = self.eng.rule(rule_id, d.as_of)
        refs = self.eng.rule_refs(rule)
        value = d.value(rule_id)
        status = d.status(rule_id)
        out: dict[str, Any] = {
            "id": rule_id, "title": rule_title(d, rule, self.lang), "kind": rule.kind,
            "value": _json_value(value), "status": status,
            "shown": self.shown(rule, value, status),
            "basis": _basis_text(rule.basis, self.lang),
            "sources": list(rule.basis.sources) or ([rule.reference] if rule.reference else []),
            "origin": str(rule.origin),
            "expression": to_source(rule.expr) if rule.expr is not None else None,
            "inputs": [self.field(d, f) for f in sorted(refs.fields)],
            "rules_used": [self.used(d, r) for r in sorted(refs.rules)
                           if r in d.slots and r not in rule.children],
            "params": [self.param(p) for p in sorted(refs.params)],
            "children": [], "needs": [], "blank_ignored": [],
        }
        if status == "unknown" and hasattr(d, "needs"):
            out["needs"] = [self.input_label(d, s) for s in d.needs(rule_id)]
        elif not hasattr(d, "parent") and rule.parent is None:
            out["blank_ignored"] = self.blank_ignored(d, rule)
        if rule.kind in ("condition", "check") and rule.children:
            out["mode"] = rule.mode
            out["children"] = [self.node(d, c) for c in rule.children]
            if rule.mode == "at_least":
                k = sum(1 for c in rule.children if d.value(c) is True)
                n_val = _at_least_n(d, rule)
                out["at_least"] = {"n": n_val, "of": len(rule.children), "holding": k}
                out["mode_text"] = self.w["at_least"].format(
                    n="?" if n_val is None else wording.number(n_val, self.lang),
                    m=len(rule.children), k=k)
            else:
                out["mode_text"] = self.w.get(rule.mode or "", "")
        if rule.kind == "ladder":
            self.ladder(d, rule, value, out)
        if rule.kind == "score":
            out["children"] = [self.node(d, ind.rule) for ind in rule.indicators]
        members = getattr(d, "members", [])
        if (refs.member_fields or refs.member_rules) and members:
            out["members"] = self.member_rows(d, rule, refs)
        return out

    def shown(self, rule: Rule, value: Any, status: str) -> str:
        if rule.kind in ("condition", "check"):
            return self.w[status]
        if rule.kind == "ladder":
            lv = next((x for x in rule.levels if x.name == value), None)
            return lv.title.get(self.lang) if lv else wording.unknown(self.lang)
        if value is None:
            return wording.unknown(self.lang)
        if rule.kind == "table" and rule.table is not None:
            return self.table_value(rule, value)
        if isinstance(value, str):  # a code computed by a rule (the sex a NIK encodes)
            for f in self.eng.schema.entity(rule.entity).fields.values():
                word = f.value_label(value, self.lang) if f.type.kind == "enum" else None
                if word is not None:
                    return word
        return wording.value(value, self.lang, unit=rule.unit)

    def table_value(self, rule: Rule, value: Any) -> str:
        return component_word(self.eng, rule.id, value, self.lang) or wording.value(
            value, self.lang, unit=rule.unit)

    def used(self, d: DecisionView, r: str) -> dict[str, Any]:
        rule = self.eng.rule(r, d.as_of)
        v = d.value(r)
        return {"id": r, "title": rule_title(d, rule, self.lang), "value": _json_value(v),
                "shown": self.shown(rule, v, d.status(r))}

    def input_label(self, d: DecisionView, slot: str) -> str:
        """``members[1].is_pregnant`` → ``Sedang hamil (anggota 2)``."""
        if "." in slot and slot.split("[", 1)[0] in self.eng.schema.entity(d.entity).relations:
            head, field = slot.rsplit(".", 1)
            idx = int(head[head.index("[") + 1:head.index("]")])
            rel = self.eng.schema.entity(d.entity).relations[head[:head.index("[")]]
            f = self.eng.schema.entity(rel.entity).fields.get(field)
            label = (f.label.get(self.lang) if f else "") or field
            return f"{label} ({self.w['member'].lower()} {idx + 1})"
        f = self.eng.schema.entity(d.entity).fields.get(slot)
        return (f.label.get(self.lang) if f else "") or slot

    def blank_ignored(self, d: DecisionView, rule: Rule) -> list[str]:
        from .unknowns import missing_inputs

        if not hasattr(d, "needs") or d.status(rule.id) == "unknown":
            return []
        from .unknowns import cone

        c = cone(self.eng, rule)
        return [self.input_label(d, str(i)) for i in missing_inputs(d, rule)
                if i.field not in (c.blank_member if i.member is not None else c.blank_own)]

    def member_rows(self, d: DecisionView, rule: Rule, refs: Any) -> list[dict[str, Any]]:
        rows = []
        for md in getattr(d, "members", [])[:12]:
            vals = []
            for f in sorted(refs.member_fields):
                info = self.field(md, f)
                vals.append({"label": info["label"], "shown": info["shown"]})
            for r in self.member_rules(refs):
                if r in md.slots:
                    u = self.used(md, r)
                    vals.append({"label": u["title"], "shown": u["shown"]})
            rows.append({"member": md.index + 1, "nik": self.field(md, "nik")["value"]
                         if "nik" in md.record else "", "values": vals})
        return rows

    def member_rules(self, refs: Any) -> list[str]:
        """The member rules a rule reads and those they read in turn (a PKH benefit shows each
        member's component, amount, rank and whether it is counted)."""
        seen: set[str] = set()
        todo = list(refs.member_rules)
        while todo:
            r = todo.pop()
            if r in seen or r not in self.eng.rules:
                continue
            seen.add(r)
            rule = self.eng.rule(r)
            todo.extend(self.eng.rule_refs(rule).rules)
        return [r for r in self.eng.order if r in seen and "#" not in r
                and not self.eng.rule(r).hidden]

    def ladder(self, d: DecisionView, rule: Rule, value: Any, out: dict[str, Any]) -> None:
        names = [lv.name for lv in rule.levels]
        nxt = None
        if value is None:
            nxt = rule.levels[0]
        elif names.index(value) + 1 < len(names):
            nxt = rule.levels[names.index(value) + 1]
        out["levels"] = [{"level": lv.name, "title": lv.title.get(self.lang),
                          "criteria": self.node(d, lv.rule) if lv.rule else None}
                         for lv in rule.levels]
        if nxt is not None and nxt.rule:
            lnode = self.node(d, nxt.rule)
            unmet = [c for c in lnode["children"] if c["status"] != "true"] \
                if lnode["children"] else ([lnode] if lnode["status"] != "true" else [])
            out["next"] = {"level": nxt.name, "title": nxt.title.get(self.lang),
                           "unmet": unmet}


def component_word(engine: Any, rule_id: str, value: Any, lang: str) -> str | None:
    """A table's text output in words (the national PKH components), else ``None``."""
    word = _OUTPUT_WORDS.get(str(value))
    return word[0 if lang == "id" else 1] if word else None


#: words for the national table outputs that are codes (PKH components)
_OUTPUT_WORDS = {
    "early_childhood": ("anak usia dini", "young child"),
    "pregnant": ("ibu hamil", "pregnancy"),
    "severe_disability": ("disabilitas berat", "severe disability"),
    "elderly": ("lanjut usia", "elderly"),
    "sma": ("anak sekolah SMA", "senior secondary pupil"),
    "smp": ("anak sekolah SMP", "junior secondary pupil"),
    "sd": ("anak sekolah SD", "primary pupil"),
    "none": ("tidak ada komponen", "no component"),
}


def _at_least_n(d: DecisionView, rule: Rule) -> float | None:
    from .backends.interp import evaluate
    from .backends.python_detail import scope_for

    assert rule.at_least is not None
    v = evaluate(rule.at_least, scope_for(d))
    return v if isinstance(v, int | float) else None


def _json_value(v: Any) -> Any:
    if isinstance(v, datetime.date):
        return v.isoformat()
    return v


# ------------------------------------------------------------------------------------------
# The explanation object


class Explanation:
    """One rule's explanation for one record: ``str()`` is the text, ``to_dict()`` the tree
    for apps, ``_repr_html_()`` the notebook view."""

    def __init__(self, d: DecisionView, rule_id: str, lang: str, level: str, unmask: bool):
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, found {level!r}")
        self.lang = _lang(lang)
        self.level = level
        self._d = d
        self._b = _Builder(d, lang, unmask)
        self.rule_id = rule_id
        self.unmask = unmask
        tree = self._b.node(d, rule_id)
        sentences = _summary(self._b, d, tree) if level == "summary" else []
        # identifiers a rule's own value carries (a copy of the No. KK, a NIK-derived code)
        # are masked like the fields' (only the fields are masked as the tree is built)
        self.tree: dict[str, Any] = tree if unmask else mask_data(tree)
        self.sentences: list[str] = sentences if unmask else [mask_text(x) for x in sentences]

    def to_dict(self) -> dict[str, Any]:
        """The explanation as plain data: the level, the language, the summary sentences and
        the full tree (values, statuses, inputs, parameters, basis, members)."""
        return {"rule": self.rule_id, "lang": self.lang, "level": self.level,
                "as_of": self._d.as_of.isoformat(), "sentences": list(self.sentences),
                "text": self.text(), "tree": self.tree}

    def text(self) -> str:
        if self.level == "summary":
            return "\n".join(self.sentences)
        text = _full_text(self._b, self._d, self.tree)
        return text if self.unmask else mask_text(text)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        from .templating import render

        summary = self.level == "summary"
        return render("explanation.html.j2", lang=self.lang, summary=summary,
                      sentences=self.sentences if summary else [],
                      text="" if summary else self.text())


def explanation(d: DecisionView, rule_id: str, *, lang: str = "id", level: str = "full",
                unmask: bool = False) -> Explanation:
    """Build the explanation of ``rule_id`` for an evaluated decision."""
    return Explanation(d, rule_id, lang, level, unmask)


def explain(d: DecisionView, rule_id: str, *, lang: str = "id", level: str = "full",
            unmask: bool = False, fmt: str = "text") -> str:
    """The explanation as text (``fmt="text"``), HTML or JSON."""
    lang = _lang(lang)
    if not d.in_force(rule_id):
        versions = d.engine.rules[rule_id]
        spans = ", ".join(
            f"{wording.date(v.effective_from, lang) if v.effective_from else '…'} – "
            f"{wording.date(v.effective_until, lang) if v.effective_until else '…'}"
            for v in versions)
        title = versions[0].title.get(lang) or rule_id
        word = "tidak berlaku pada" if lang == "id" else "is not in force on"
        when = "berlaku" if lang == "id" else "in force"
        return f"{title} {word} {wording.date(d.as_of, lang)} ({when}: {spans})"
    e = explanation(d, rule_id, lang=lang, level=level, unmask=unmask)
    if fmt == "json":
        return json.dumps(e.to_dict(), default=str, ensure_ascii=False, indent=2)
    if fmt == "html":
        return e._repr_html_()
    return e.text()


# ------------------------------------------------------------------------------------------
# Full text


def _full_text(b: _Builder, d: DecisionView, tree: dict[str, Any]) -> str:
    w = b.w
    ent = d.engine.schema.entity(d.entity)
    key = ent.key
    shown = _field_text(d, key, b.lang, unmask=b.unmask) if d.record.get(key) is not None \
        else "?"
    head = [f"{ent.label.get(b.lang) or d.entity} {shown} — {w['as_of']} "
            f"{wording.date(d.as_of, b.lang)}"]
    lines = _render_node(b, tree, 0)
    foot = [f"{w['basis']}: {tree['basis']}"]
    if tree["sources"]:
        foot.append(f"{w['sources']}: {'; '.join(tree['sources'])}")
    foot += [
            f"{w['origin']}: {tree['origin']} ({w['layers']}: {layering(d.engine.plugins)})"]
    return "\n".join(head + lines + foot)


def _render_node(b: _Builder, node: dict[str, Any], indent: int) -> list[str]:
    w = b.w
    pad = "  " * indent
    mark = {"true": "[x]", "false": "[ ]", "unknown": "[?]", "value": " = "}[node["status"]]
    head = f"{pad}{mark} {node['title']}"
    if "#" not in node["id"]:
        head += f" ({node['id']})"
    head += f": {node['shown']}"
    lines = [head]
    sub = pad + "    "
    if node.get("mode_text"):
        lines.append(f"{sub}{node['mode_text']}")
    if node.get("expression") and not node["children"] and node["expression"] != node["title"]:
        lines.append(f"{sub}{w['expression']}: `{node['expression']}`")
    if node["inputs"]:
        lines.append(f"{sub}{w['inputs']}: " + "; ".join(
            f"{i['label']} = {i['shown']}" for i in node["inputs"]))
    for r in node["rules_used"]:
        lines.append(f"{sub}{r['title']} = {r['shown']}")
    for p in node["params"]:
        where = f" ({p['where']})" if p["where"] else ""
        src = f"; {w['sources']}: {'; '.join(p['sources'])}" if p["sources"] else ""
        lines.append(f"{sub}{w['param']} {p['name']} = {p['shown']}{where}; "
                     f"{w['basis']}: {p['basis']}{src}")
    for m in node.get("members", []):
        vals = "; ".join(f"{v['label']} = {v['shown']}" for v in m["values"])
        lines.append(f"{sub}{w['member']} {m['member']} {m['nik']}: {vals}")
    if node["needs"]:
        lines.append(f"{sub}{w['needs']}: {', '.join(node['needs'])}")
    if node.get("blank_ignored"):
        lines.append(sub + w["did_not_matter"].format(fields=", ".join(node["blank_ignored"])))
    for c in node["children"]:
        lines.extend(_render_node(b, c, indent + 2))
    for lv in node.get("levels", []):
        lines.append(f"{sub}{w['level']} {lv['title']}:" if lv["criteria"] else
                     f"{sub}{w['level']} {lv['title']}")
        if lv["criteria"]:
            lines.extend(_render_node(b, lv["criteria"], indent + 3))
    if node.get("next"):
        nx = node["next"]
        items = []
        for u in nx["unmet"]:
            vals = "; ".join(f"{i['label']} = {i['shown']}" for i in u["inputs"])
            items.append(u["title"] + (f" ({vals})" if vals else ""))
        lines.append(f"{sub}{w['next'].format(level=nx['level'])}: " + "; ".join(items))
    return lines


# ------------------------------------------------------------------------------------------
# Summary


def _summary(b: _Builder, d: DecisionView, tree: dict[str, Any]) -> list[str]:
    lang = b.lang
    w = b.w
    idn = lang == "id"
    this = _THIS[lang].get(d.entity) or (d.engine.schema.entity(d.entity).label.get(lang))
    when = wording.date(d.as_of, lang)
    title = tree["title"]
    status = tree["status"]
    out: list[str] = []
    # 1. the decision
    if tree["kind"] in ("condition", "check"):
        if status == "true":
            out.append(f"Per {when}, {this} memenuhi: {title}." if idn else
                       f"As of {when}, {this} meets: {title}.")
        elif status == "false":
            out.append(f"Per {when}, {this} tidak memenuhi: {title}." if idn else
                       f"As of {when}, {this} does not meet: {title}.")
        else:
            out.append(f"Per {when}, belum dapat dipastikan apakah {this} memenuhi: {title}."
                       if idn else f"As of {when}, it cannot yet be said whether {this} "
                       f"meets: {title}.")
    elif status == "unknown" and tree["kind"] != "ladder":
        out.append(f"Per {when}, {title} untuk {this} belum dapat dihitung." if idn else
                   f"As of {when}, {title} for {this} cannot be computed yet.")
    else:
        out.append(f"Per {when}, {title} untuk {this}: {tree['shown']}." if idn else
                   f"As of {when}, {title} for {this}: {tree['shown']}.")
    # 2. the reasons
    out.extend(_reasons(b, tree))
    # 3. what is missing, who can supply it; blanks that did not matter
    if tree["needs"]:
        who = _WHO[lang].get(d.entity, "")
        fields = ", ".join(tree["needs"][:6]) + ("…" if len(tree["needs"]) > 6 else "")
        out.append(f"Untuk memastikannya masih diperlukan: {fields}; data ini dapat dilengkapi "
                   f"oleh {who}." if idn else f"To decide it, these are still needed: "
                   f"{fields}; they can be supplied by {who}.")
    elif tree["blank_ignored"]:
        fields = ", ".join(tree["blank_ignored"][:4]) + ("…" if len(tree["blank_ignored"]) > 4
                                                          else "")
        out.append(w["did_not_matter"].format(fields=fields[0].upper() + fields[1:]) + ".")
    # 4. the basis
    out.append(f"{w['basis']}: {tree['basis']}.")
    return out[:10]


def _facts(node: dict[str, Any], limit: int = 3) -> str:
    parts = [f"{i['label']}: {i['shown']}" for i in node["inputs"]]
    parts += [f"{r['title']}: {r['shown']}" for r in node["rules_used"]]
    parts += [f"{p['title']}: {p['shown']}" for p in node["params"]]
    return "; ".join(parts[:limit])


def _reason(node: dict[str, Any]) -> str:
    facts = _facts(node)
    return str(node["title"]) + (f" ({facts})" if facts else "")


def _reasons(b: _Builder, tree: dict[str, Any]) -> list[str]:
    idn = b.lang == "id"
    out: list[str] = []
    kids = tree["children"]
    status = tree["status"]
    if tree["kind"] in ("condition", "check") and kids:
        held = [c for c in kids if c["status"] == "true"]
        failed = [c for c in kids if c["status"] == "false"]
        open_ = [c for c in kids if c["status"] == "unknown"]
        if tree.get("mode") == "at_least":
            info = tree["at_least"]
            n_txt = "?" if info["n"] is None else wording.number(info["n"], b.lang)
            out.append(f"{info['holding']} dari {info['of']} kriteria terpenuhi, dan paling "
                       f"sedikit {n_txt} diperlukan." if idn else
                       f"{info['holding']} of the {info['of']} criteria hold, and at least "
                       f"{n_txt} are needed.")
            if held:
                out.append(("Yang terpenuhi: " if idn else "Those that hold: ")
                           + "; ".join(_strip_number(c["title"]) for c in held[:6])
                           + ("…" if len(held) > 6 else "") + ".")
            if open_:
                out.append(("Belum diketahui: " if idn else "Not yet known: ")
                           + "; ".join(_strip_number(c["title"]) for c in open_[:4]) + ".")
        elif status == "false" and failed:
            out.append(("Alasannya: " if idn else "Because: ") + "; ".join(
                _reason(c) + (" — tidak terpenuhi" if idn else " — does not hold")
                for c in failed[:3]) + ".")
        elif status == "true":
            out.append(("Yang terpenuhi: " if idn else "What holds: ")
                       + "; ".join(_reason(c) for c in (held or kids)[:4]) + ".")
        elif open_:
            out.append(("Belum diketahui: " if idn else "Not yet known: ")
                       + "; ".join(c["title"] for c in open_[:4]) + ".")
    elif tree["kind"] == "ladder":
        nx = tree.get("next")
        if nx and nx["unmet"]:
            out.append(f"{b.w['next'].format(level=nx['level'])}: "
                       + "; ".join(_reason(u) for u in nx["unmet"][:4]) + ".")
    else:
        facts = _facts(tree, 4)
        if facts:
            out.append(("Dihitung dari: " if idn else "Computed from: ") + facts + ".")
    members = tree.get("members") or []
    if members and tree["kind"] == "value":
        out.extend(_pkh_members(b, b.d, members))
    return out[:7]


def _strip_number(title: str) -> str:
    head, _, rest = title.partition(". ")
    return rest if head.isdigit() and rest else title


#: what the summary shows of each member for a benefit summed over members (PKH: the
#: component, its amount, the rank in the family and whether it is counted)
_MEMBER_SUMMARY = ("pkh_component", "pkh_component_amount", "pkh_person_rank", "pkh_counted")


def _pkh_members(b: _Builder, d: DecisionView, members: list[dict[str, Any]]) -> list[str]:
    out = []
    for md in getattr(d, "members", [])[:6]:
        vals = []
        for r in _MEMBER_SUMMARY:
            if r in md.slots:
                rule = b.eng.rule(r, d.as_of)
                v = md.value(r)
                shown = wording.boolean(v, b.lang) if isinstance(v, bool) else \
                    b.shown(rule, v, md.status(r))
                vals.append(f"{rule_title(md, rule, b.lang)}: {shown}")
        if vals:
            out.append(f"{b.w['member']} {md.index + 1}: " + "; ".join(vals) + ".")
    return out


def decision_html(d: RecordDecisionView) -> str:
    """The notebook view of a decision: each top-level rule with its value and a summary."""
    lang = "id"
    from .templating import render

    b = _Builder(d, lang, False)
    rows = []
    for rid in d.rule_ids():
        rule = d.engine.rule(rid, d.as_of)
        if rule.parent is not None:
            continue
        rows.append({"title": rule_title(d, rule, lang),
                     "shown": b.shown(rule, d.value(rid), d.status(rid))})
    findings = [{"severity": f.severity, "message": f.to_dict()["message"]}
                for f in d.findings]  # to_dict masks NIKs and No. KK in the message
    ent = d.engine.schema.entity(d.entity)
    return render("decision.html.j2", label=ent.label.get(lang) or d.entity,
                  as_of_word=_W[lang]["as_of"], as_of=wording.date(d.as_of, lang),
                  rows=rows, findings=findings)

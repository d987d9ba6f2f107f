"""Explanations: why a rule came out as it did, in Indonesian or English, as text, HTML or JSON.

An explanation is built from a decision that is already evaluated: the value of every criterion
(criteria are rules), the fields each one read (known statically from its expression), the
parameters with the date their value took effect and their reference, and the origin of the rule
(plugin, version, file). Unknown outcomes list the fields that would decide them. NIKs and family
card numbers are masked unless the caller asks otherwise.
"""

from __future__ import annotations

import datetime
import html
import json
from typing import TYPE_CHECKING, Any

from . import wording
from .backends.record import mask_id
from .expr.nodes import to_source
from .plugins import layering

if TYPE_CHECKING:
    from .decision import Decision, _Base
    from .model import Rule

_WORDS = {
    "id": {"true": "YA", "false": "TIDAK", "unknown": "TIDAK DIKETAHUI", "value": "nilai",
           "reference": "Dasar", "origin": "Sumber aturan", "layers": "lapisan",
           "needs": "perlu verifikasi",
           "param": "parameter", "since": "berlaku sejak", "unverified": "belum terverifikasi",
           "inputs": "data yang dipakai", "at_least": "terpenuhi jika paling sedikit {n} dari "
           "{m} kriteria (terpenuhi {k})", "all": "semua kriteria harus terpenuhi",
           "any": "salah satu kriteria cukup", "not": "kebalikan dari", "next": "Untuk "
           "mencapai {level} masih perlu", "level": "tingkat", "reached": "tingkat tercapai",
           "member": "anggota", "missing": "(kosong)", "none": "tidak ada", "as_of":
           "per tanggal", "blocked": "pendakian terhenti karena data belum lengkap",
           "findings": "Temuan"},
    "en": {"true": "YES", "false": "NO", "unknown": "UNKNOWN", "value": "value",
           "reference": "Reference", "origin": "Rule from", "layers": "layers",
           "needs": "needs verification",
           "param": "parameter", "since": "in force since", "unverified": "unverified",
           "inputs": "data used", "at_least": "holds when at least {n} of {m} criteria hold "
           "({k} hold)", "all": "all criteria must hold", "any": "any one criterion is enough",
           "not": "the opposite of", "next": "To reach {level} it still needs", "level":
           "level", "reached": "level reached", "member": "member", "missing": "(blank)",
           "none": "none", "as_of": "as of", "blocked": "the climb stopped on missing data",
           "findings": "Findings"},
}
_MASK = {"nik", "household_id"}


def _fmt_value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    if isinstance(v, int):
        return f"{v:,}".replace(",", ".") if abs(v) >= 10000 else str(v)
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v)


def rule_title(d: _Base, rule: Rule, lang: str) -> str:
    """A rule's title in ``lang`` with its placeholders filled: ``{param.x}`` the value in
    force (with its unit, in words), ``{name}`` a field or rule value of the record."""
    return wording.render(rule.title.get(lang) or rule.id, _resolver(d, lang))


def _resolver(d: _Base, lang: str) -> Any:
    eng = d.engine

    def resolve(name: str, bare: bool) -> str | None:
        if name.startswith("param."):
            pname = name[len("param."):]
            if pname not in eng.parameters:
                return None
            v = d.plan.param(pname)
            if bare and isinstance(v, int | float) and not isinstance(v, bool):
                return wording.number(v, lang)
            return wording.value(v, lang, unit=eng.parameters[pname].unit)
        if name in d._slots:
            r = d.plan.rules.get(name)
            return wording.value(d.value(name), lang, unit=r.unit if r else "")
        fld = eng.schema.entity(d.entity).fields.get(name)
        if fld is not None:
            return wording.value(d.record.get(name), lang, field=fld)
        return None

    return resolve


class _Builder:
    def __init__(self, d: _Base, lang: str, unmask: bool):
        self.d = d
        self.lang = lang if lang in _WORDS else "en"
        self.w = _WORDS[self.lang]
        self.unmask = unmask
        self.mask = mask_id
        self.eng = d.engine

    def field(self, d: _Base, name: str) -> dict[str, Any]:
        ent = self.eng.schema.entity(d.entity)
        f = ent.fields.get(name)
        v = d.record.get(name)
        shown = _fmt_value(v)
        if v is not None and not self.unmask and (
                name in _MASK or (name == ent.key and d.entity == "household")):
            shown = self.mask(v)
        label = (f.label.get(self.lang) if f else "") or name  # an unlabelled field: its name
        return {"name": name, "label": label, "value": shown, "missing": v is None}

    def param(self, name: str) -> dict[str, Any]:
        p = self.eng.parameters[name]
        since = self.d.plan.param_since.get(name)
        value = self.d.plan.param(name)
        return {"name": name, "title": p.title.get(self.lang), "value": _fmt_value(value),
                "since": since.isoformat() if since else None, "reference": p.reference,
                "unverified": p.unverified, "origin": str(p.origin), "unit": p.unit}

    def missing_fields(self, d: _Base, rule: Rule, seen: set[str] | None = None) -> list[str]:
        seen = seen if seen is not None else set()
        if rule.id in seen:
            return []
        seen.add(rule.id)
        refs = self.eng.rule_refs(rule)
        out = [f for f in sorted(refs.fields) if d.record.get(f) is None]
        for dep in sorted(set(refs.rules) | set(rule.children) |
                          {lv.rule for lv in rule.levels if lv.rule}):
            if dep in d._slots and d.value(dep) is None:
                out += self.missing_fields(d, self.eng.rule(dep, d.as_of), seen)
        members = getattr(d, "members", [])
        for mf in sorted(refs.member_fields):
            for md in members:
                if md.record.get(mf) is None:
                    who = self.w["member"] + f" {md.index + 1}"
                    out.append(f"{mf} ({who})")
        for mr in sorted(refs.member_rules):
            for md in members:
                if mr in md._slots and md.value(mr) is None:
                    for f in self.missing_fields(md, self.eng.rule(mr, d.as_of), set()):
                        out.append(f if "(" in f else
                                   f"{f} ({self.w['member']} {md.index + 1})")
        return list(dict.fromkeys(out))

    def node(self, d: _Base, rule_id: str, depth: int = 0) -> dict[str, Any]:
        rule = self.eng.rule(rule_id, d.as_of)
        refs = self.eng.rule_refs(rule)
        value = d.value(rule_id)
        status = d.status(rule_id)
        title = rule_title(d, rule, self.lang)
        out: dict[str, Any] = {
            "id": rule_id, "title": title, "kind": rule.kind, "value": value,
            "shown": _fmt_value(value), "status": status,
            "expression": to_source(rule.expr) if rule.expr is not None else None,
            "reference": rule.reference, "origin": str(rule.origin),
            "inputs": [self.field(d, f) for f in sorted(refs.fields)],
            "rules_used": [{"id": r,
                            "title": rule_title(d, self.eng.rule(r, d.as_of), self.lang),
                            "value": _fmt_value(d.value(r))}
                           for r in sorted(refs.rules) if r in d._slots
                           and r not in rule.children],
            "params": [self.param(p) for p in sorted(refs.params)],
            "children": [], "needs": [],
        }
        members = getattr(d, "members", [])
        if (refs.member_fields or refs.member_rules) and members:
            rows = []
            for md in members[:12]:
                vals = {f: self.field(md, f)["value"] for f in sorted(refs.member_fields)}
                vals.update({r: _fmt_value(md.value(r)) for r in sorted(refs.member_rules)
                             if r in md._slots})
                rows.append({"member": md.index + 1, "nik": self.field(md, "nik")["value"]
                             if "nik" in md.record else "", "values": vals})
            out["members"] = rows
        if status == "unknown":
            out["needs"] = self.missing_fields(d, rule)
        if rule.kind in ("condition", "check") and rule.children:
            out["mode"] = rule.mode
            out["children"] = [self.node(d, c, depth + 1) for c in rule.children]
            if rule.mode == "at_least":
                k = sum(1 for c in rule.children if d.value(c) is True)
                n_val = _eval_count(self, d, rule)
                out["mode_text"] = self.w["at_least"].format(n=n_val, m=len(rule.children), k=k)
            else:
                out["mode_text"] = self.w.get(rule.mode or "", "")
        if rule.kind == "ladder":
            levels = []
            reached = value
            names = [lv.name for lv in rule.levels]
            nxt = None
            if reached is None:
                nxt = rule.levels[0]
            elif names.index(reached) + 1 < len(names):
                nxt = rule.levels[names.index(reached) + 1]
            for lv in rule.levels:
                entry: dict[str, Any] = {"level": lv.name, "title": lv.title.get(self.lang)}
                if lv.rule:
                    entry["criteria"] = self.node(d, lv.rule, depth + 1)
                levels.append(entry)
            out["levels"] = levels
            if nxt is not None and nxt.rule:
                lnode = self.node(d, nxt.rule, depth + 1)
                unmet = [c for c in lnode["children"] if c["status"] != "true"] \
                    if lnode["children"] else ([lnode] if lnode["status"] != "true" else [])
                out["next"] = {"level": nxt.name, "unmet": unmet}
        if rule.kind == "score":
            out["children"] = [self.node(d, ind.rule, depth + 1) for ind in rule.indicators]
        return out


def _eval_count(b: _Builder, d: _Base, rule: Rule) -> str:
    from .backends.interp import evaluate
    from .backends.python_detail import scope_for

    assert rule.at_least is not None
    try:
        return _fmt_value(evaluate(rule.at_least, scope_for(d)))
    except Exception:
        return to_source(rule.at_least)


def _render_text(b: _Builder, node: dict[str, Any], indent: int = 0) -> list[str]:
    w = b.w
    pad = "  " * indent
    mark = {"true": "[x]", "false": "[ ]", "unknown": "[?]", "value": " = "}[node["status"]]
    head = f"{pad}{mark} {node['title']}"
    if node["id"] != node["title"] and not node["id"].count("#"):
        head += f" ({node['id']})"
    if node["status"] == "value" or node["kind"] in ("value", "table", "score", "ladder"):
        head += f": {node['shown']}"
    else:
        head += f": {w[node['status']]}"
    lines = [head]
    sub = pad + "    "
    if node.get("mode_text"):
        lines.append(f"{sub}{node['mode_text']}")
    if node["expression"] and node["kind"] in ("condition", "check", "value") and \
            not node["children"] and node["expression"] != node["title"]:
        lines.append(f"{sub}{node['expression']}")
    if node["inputs"]:
        lines.append(f"{sub}{w['inputs']}: " + "; ".join(
            f"{i['label']} = {i['value'] if not i['missing'] else w['missing']}"
            for i in node["inputs"]))
    for r in node["rules_used"]:
        lines.append(f"{sub}{r['title']} = {r['value']}")
    for p in node["params"]:
        since = f", {w['since']} {p['since']}" if p["since"] else ""
        ref = f"; {w['reference']}: {p['reference']}" if p["reference"] else ""
        unv = f" ({w['unverified']})" if p["unverified"] else ""
        lines.append(f"{sub}{w['param']} {p['name']} = {p['value']}{since}{ref}{unv}")
    for m in node.get("members", []):
        vals = ", ".join(f"{k}={v}" for k, v in m["values"].items())
        lines.append(f"{sub}{w['member']} {m['member']} {m['nik']}: {vals}")
    if node["needs"]:
        lines.append(f"{sub}{w['needs']}: {', '.join(node['needs'])}")
    for c in node["children"]:
        lines.extend(_render_text(b, c, indent + 2))
    if node.get("levels"):
        for lv in node["levels"]:
            crit = lv.get("criteria")
            if crit:
                lines.append(f"{sub}{w['level']} {lv['level']}:")
                lines.extend(_render_text(b, crit, indent + 3))
            else:
                lines.append(f"{sub}{w['level']} {lv['level']}")
    if node.get("next"):
        nx = node["next"]
        items = []
        for u in nx["unmet"]:
            vals = "; ".join(f"{i['label']} = {i['value']}" for i in u["inputs"])
            items.append(u["title"] + (f" ({vals})" if vals else ""))
        lines.append(f"{sub}{w['next'].format(level=nx['level'])}: " + "; ".join(items))
    return lines


def explain(d: _Base, rule_id: str, *, lang: str = "id", unmask: bool = False,
            fmt: str = "text") -> str:
    b = _Builder(d, lang, unmask)
    if not d.in_force(rule_id):
        versions = d.engine.rules[rule_id]
        spans = ", ".join(f"{v.effective_from or '…'} – {v.effective_until or '…'}"
                          for v in versions)
        word = "tidak berlaku pada" if b.lang == "id" else "is not in force on"
        when = "berlaku" if b.lang == "id" else "in force"
        return f"{rule_id} {word} {d.as_of.isoformat()} ({when}: {spans})"
    node = b.node(d, rule_id)
    if fmt == "json":
        return json.dumps(node, default=str, ensure_ascii=False, indent=2)
    rule = d.engine.rule(rule_id, d.as_of)
    w = b.w
    header = []
    rec_key = d.engine.schema.entity(d.entity).key
    rid = d.record.get(rec_key)
    shown = b.field(d, rec_key)["value"] if rid is not None else "?"
    header.append(f"{d.entity} {shown} — {w['as_of']} {d.as_of.isoformat()}")
    lines = _render_text(b, node)
    footer = []
    if rule.reference:
        footer.append(f"{w['reference']}: {rule.reference}")
    footer.append(f"{w['origin']}: {rule.origin} ({w['layers']}: "
                  f"{layering(d.engine.plugins)})")
    text = "\n".join(header + lines + footer)
    if fmt == "html":
        return "<pre>" + html.escape(text) + "</pre>"
    return text


def decision_html(d: Decision) -> str:
    rows = []
    for rid in d.rule_ids():
        rule = d.engine.rule(rid, d.as_of)
        if rule.parent is not None:
            continue
        rows.append(f"<tr><td>{html.escape(rid)}</td><td>{html.escape(rule.title.get('en'))}"
                    f"</td><td>{html.escape(_fmt_value(d.value(rid)))}</td>"
                    f"<td>{d.status(rid)}</td></tr>")
    findings = "".join(f"<li>{html.escape(f.severity)}: {html.escape(f.message)}</li>"
                       for f in d.findings)
    return (f"<div><b>{html.escape(d.entity)}</b> as of {d.as_of}<table>"
            f"<tr><th>rule</th><th>title</th><th>value</th><th>status</th></tr>"
            f"{''.join(rows)}</table><ul>{findings}</ul></div>")

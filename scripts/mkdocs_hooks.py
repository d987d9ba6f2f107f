"""mkdocs hooks of the welfare-rules site (registered in mkdocs.yml).

* ``on_config``: every Markdown page of ``docs/`` that the nav does not list is added to the
  "Guides" section (titled by its first heading), so a new page is never left out of the site;
* ``on_page_markdown``: the rule-file format page gets its body from the JSON Schema of the
  rule format (``welfare_rules.jsonschema``); links to files of the repository outside
  ``docs/`` (example CSVs, plugin READMEs) are checked to exist — a missing one is a warning,
  which fails ``mkdocs build --strict`` — and written as the file's path in the repository (or a
  link into ``repo_url`` when the site has one).
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.welfare_rules")
ROOT = Path(__file__).resolve().parents[1]
SCHEMA_MARKER = "<!-- welfare-rules: rule-file schema -->"
_LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


# ---------------------------------------------------------------------------------------------
# The nav: pages not listed go under "Guides"


def _listed(nav: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(nav, str):
        out.add(nav)
    elif isinstance(nav, dict):
        for v in nav.values():
            out |= _listed(v)
    elif isinstance(nav, list):
        for item in nav:
            out |= _listed(item)
    return out


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").replace("_", " ").capitalize()


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    nav = config["nav"]
    if not nav:
        return config
    listed = _listed(nav)
    missing = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md")
                     if p.relative_to(docs).as_posix() not in listed)
    if not missing:
        return config
    guides = next((item for item in nav if isinstance(item, dict) and "Guides" in item), None)
    if guides is None:
        guides = {"Guides": []}
        nav.append(guides)
    guides["Guides"].extend({_title(docs / m): m} for m in missing)
    return config


# ---------------------------------------------------------------------------------------------
# Links to the repository outside docs/


def _rewrite_links(markdown: str, src_uri: str, docs_dir: Path, repo_url: str | None) -> str:
    here = posixpath.dirname(src_uri)

    def sub(m: re.Match[str]) -> str:
        text, target = m.group(1), m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            return m.group(0)
        path, _, anchor = target.partition("#")
        inside = posixpath.normpath(posixpath.join(here, path))
        if not inside.startswith("../"):
            return m.group(0)  # a page or file of the site: mkdocs checks it
        file = (docs_dir / here / path).resolve()
        try:
            rel = file.relative_to(ROOT).as_posix()
        except ValueError:
            log.warning(f"{src_uri}: the link '{target}' points outside the repository")
            return m.group(0)
        if not file.exists():
            log.warning(f"{src_uri}: the link '{target}' points to '{rel}', which does not "
                        f"exist in the repository")
            return m.group(0)
        if repo_url:
            frag = f"#{anchor}" if anchor else ""
            return f"[{text}]({repo_url.rstrip('/')}/blob/main/{rel}{frag})"
        shown = f"`{rel}`"
        return text if text.strip() == shown else f"{text} ({shown})"

    out: list[str] = []
    last = 0
    for fence in _FENCE.finditer(markdown):  # code blocks are left as written
        out.append(_LINK.sub(sub, markdown[last:fence.start()]))
        out.append(fence.group(0))
        last = fence.end()
    out.append(_LINK.sub(sub, markdown[last:]))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# The rule-file format from the JSON Schema


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "oneOf" in schema:
        return " or ".join(_type(s) for s in schema["oneOf"])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object":
        props = schema.get("properties")
        if props:
            return "{" + ", ".join(f"{k}: {_type(v)}" for k, v in props.items()) + "}"
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            keys = schema.get("propertyNames", {}).get("format", "key")
            return f"mapping of {keys} to {_type(extra) or 'any value'}"
        return "mapping"
    if kind == "string" and schema.get("format") == "date":
        return "date (YYYY-MM-DD)"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind) if kind else "any value"


def schema_markdown() -> str:
    """The rule-file format as Markdown: one section per definition, a table of its keys."""
    from welfare_rules.jsonschema import rule_file_schema

    schema = rule_file_schema()
    lines: list[str] = []
    top = schema.get("$ref", "").rsplit("/", 1)[-1]
    if top:
        lines.append(f"A rule file is one [{top}](#{top.lower()}).")
        lines.append("")
    for name, d in schema.get("$defs", {}).items():
        lines.append(f"## {name}")
        lines.append("")
        if d.get("description"):
            lines.append(str(d["description"]))
            lines.append("")
        props = d.get("properties")
        if props:
            required = set(d.get("required", ()))
            lines.append("| key | type | required |")
            lines.append("| --- | --- | --- |")
            for key, sub in props.items():
                lines.append(f"| `{key}` | {_type(sub)} | {'yes' if key in required else ''} |")
        else:
            lines.append(f"One of: {_type(d)}.")
        lines.append("")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if SCHEMA_MARKER in markdown:
        markdown = markdown.replace(SCHEMA_MARKER, schema_markdown())
    return _rewrite_links(markdown, page.file.src_uri, Path(config["docs_dir"]),
                          config.get("repo_url"))

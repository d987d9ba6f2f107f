"""HTML comes from Jinja2 templates, autoescaped, never from f-strings (review #38)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import welfare_rules
from welfare_rules.templating import TEMPLATES, environment, render

SRC = Path(welfare_rules.__file__).parent
_TAG = re.compile(r"</?(div|p|pre|table|thead|tbody|tr|td|th|li|ul|ol|b|strong|span|em|svg)"
                  r"\b[^>]*>")


def test_no_f_string_or_format_of_the_library_builds_html() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant)
                               and isinstance(v.value, str))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "format" and isinstance(node.func.value, ast.Constant):
                text = str(node.func.value.value)
            else:
                continue
            if _TAG.search(text):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found == []


def test_the_templates_escape_what_they_are_given() -> None:
    html = render("explanation.html.j2", lang="en", summary=True,
                  sentences=["<script>alert(1)</script> & co"], text="")
    assert html == ('<div class="welfare-rules-explanation" lang="en"><p>&lt;script&gt;'
                    'alert(1)&lt;/script&gt; &amp; co</p></div>')


def test_one_environment_per_template_folder() -> None:
    from welfare_rules.reports import charts

    assert environment() is environment(TEMPLATES)
    assert charts.template("impact.html.j2").environment is environment(charts.TEMPLATES)

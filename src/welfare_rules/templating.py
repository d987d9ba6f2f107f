"""HTML from Jinja2 templates, autoescaped: one environment per template folder, made once.

The notebook views of decisions and explanations use the templates of ``templates/`` beside
this module; the report, impact and allocation pages those of ``reports/templates``. Every
value is escaped by the template (never pasted into an f-string), and a name a template uses
that its caller did not give is an error (``StrictUndefined``), not an empty string.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

__all__ = ["TEMPLATES", "environment", "render"]

#: the templates of the library's own HTML views (notebook)
TEMPLATES = Path(__file__).parent / "templates"


def environment(folder: Path = TEMPLATES) -> jinja2.Environment:
    """The Jinja2 environment of the templates in ``folder`` (autoescaped, strict), made once
    per folder."""
    return _environment(str(Path(folder).resolve()))


@functools.cache
def _environment(folder: str) -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True)


def render(name: str, folder: Path = TEMPLATES, **context: Any) -> str:
    """Render the template ``name`` of ``folder`` with ``context``."""
    return str(environment(folder).get_template(name).render(**context))

"""How welfare-rules objects look in a notebook: HTML tables, and charts with a static image.

* :func:`table_html` renders an Arrow table as a small HTML table (numbers right-aligned with
  thousands separators, at most ``max_rows`` rows, the number of rows left out said). The
  ``_repr_html_`` of ``BatchResult``, ``LoadResult``, ``Reconciliation`` and ``SnapshotDiff``
  are built from it.
* :func:`setup_notebook` (or ``%load_ext welfare_rules.display``) makes Jupyter show every Arrow
  table — ``res.summary()``, ``res.findings`` — as HTML, and plotly figures as plotly's own
  mimetype (interactive in JupyterLab) *plus a PNG*, so a notebook saved with its outputs shows
  its charts where no JavaScript runs (GitHub, nbviewer, a PDF). The PNG is drawn by kaleido
  with the system's Chromium (``WELFARE_RULES_CHROMIUM``, else ``chromium`` on ``PATH``):
  ``pip install 'welfare-rules[notebook]'``.

Every table is masked before it is shown (:func:`~welfare_rules.masking.mask_table`: the
identifier columns whole, 16-digit runs in any other text), so a notebook saved with its outputs
holds no full NIK or No. KK; ``table_html(..., unmask=True)`` shows them on request.
"""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from .formatting import cell
from .masking import mask_table
from .templating import render

__all__ = ["facts_html", "load_ipython_extension", "setup_notebook", "table_html"]

def _text(v: Any) -> tuple[str, bool]:
    if v is None or isinstance(v, bool):
        return cell(v), False
    if isinstance(v, int | float):
        return cell(v), True
    if isinstance(v, datetime.date):
        return v.isoformat(), False
    text = str(v)
    return (text[:117] + "…" if len(text) > 120 else text), False


def table_html(table: pa.Table, *, title: str = "", max_rows: int = 20,
               columns: Sequence[str] | None = None,
               facts: Iterable[tuple[str, Any]] = (), unmask: bool = False) -> str:
    """An Arrow table as an HTML table (autoescaped): the first ``max_rows`` rows of
    ``columns`` (default all), under ``title`` and a line of ``facts`` (label, value).

    Ids are masked (:func:`~welfare_rules.masking.mask_table`) unless ``unmask`` is true.
    """
    cols = [c for c in (columns or table.column_names) if c in table.column_names]
    head = mask_table(table.select(cols).slice(0, max_rows), unmask=unmask).to_pylist()
    rows = [[dict(zip(("text", "num"), _text(r[c]), strict=True)) for c in cols] for r in head]
    numeric = [any(row[i]["num"] for row in rows) for i in range(len(cols))]
    return render("table.html.j2",
        title=title, facts=[(k, _text(v)[0]) for k, v in facts],
        headers=[{"name": c, "num": numeric[i]} for i, c in enumerate(cols)], rows=rows,
        more=max(table.num_rows - max_rows, 0), total=cell(table.num_rows))


def facts_html(title: str, facts: Iterable[tuple[str, Any]]) -> str:
    """A title and a line of facts, without a table."""
    return render("table.html.j2", title=title, facts=[(k, _text(v)[0]) for k, v in facts],
                  headers=[], rows=[], more=0, total="0")


def _chromium() -> str | None:
    path = os.environ.get("WELFARE_RULES_CHROMIUM")
    if path:
        return path
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def setup_notebook(ipython: Any = None, *, width: int = 900, height: int = 450) -> str:
    """Show Arrow tables as HTML and plotly figures with a static PNG beside the interactive
    figure. Returns the plotly renderer set (``plotly_mimetype+png``, or ``plotly_mimetype``
    when kaleido or Chromium is missing — then a warning says which).

    Args:
        ipython: the IPython shell (default: the running one, if any).
        width, height: the size of the static images, in pixels.
    """
    import warnings

    import plotly.io as pio

    shell = ipython
    if shell is None:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
    if shell is not None:
        formatter = shell.display_formatter.formatters["text/html"]
        formatter.for_type(pa.Table, lambda t: table_html(t))
    renderer = "plotly_mimetype"
    chromium = _chromium()
    try:
        import kaleido  # noqa: F401
    except ImportError:
        warnings.warn("no static chart images: kaleido is not installed (pip install "
                      "'welfare-rules[notebook]')", stacklevel=2)
    else:
        if chromium is None:
            warnings.warn("no static chart images: no Chromium found (apt-get install "
                          "chromium, or set WELFARE_RULES_CHROMIUM)", stacklevel=2)
        else:
            os.environ.setdefault("BROWSER_PATH", chromium)  # where kaleido looks for Chrome
            renderer = "plotly_mimetype+png"
            pio.renderers["png"] = _png_renderer(width, height)
    pio.renderers.default = renderer
    return renderer


#: How many times a PNG is drawn before kaleido's error is raised (see :func:`_png_renderer`).
_PNG_ATTEMPTS = 3


def _png_renderer(width: int, height: int) -> Any:
    """plotly's PNG renderer, drawing again (with a new Chromium) when kaleido's browser fails.

    kaleido starts a Chromium for each image and calls its page's script once the page has
    loaded; on a loaded machine the call has been seen to reach the page before its script had
    run (``JavascriptError: ReferenceError: kaleido_scopes is not defined``). That error, and a
    browser that fails or closes while starting, are kaleido's, not the figure's, so the image is
    drawn again, at most :data:`_PNG_ATTEMPTS` times; a figure that cannot be drawn raises its
    error at once (plotly's ``ValueError``), and the last browser error is raised as it is.
    """
    from kaleido.errors import BrowserClosedError, BrowserFailedError, JavascriptError
    from plotly.io._base_renderers import PngRenderer

    transient = (JavascriptError, BrowserFailedError, BrowserClosedError)

    class SteadyPngRenderer(PngRenderer):  # type: ignore[misc]
        def to_mimebundle(self, fig_dict: Any) -> dict[str, str]:
            attempt = 1
            while True:
                try:
                    bundle: dict[str, str] = super().to_mimebundle(fig_dict)
                    return bundle
                except transient:
                    if attempt == _PNG_ATTEMPTS:
                        raise
                    attempt += 1

    return SteadyPngRenderer(width=width, height=height)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext welfare_rules.display``: :func:`setup_notebook` for this shell."""
    setup_notebook(ipython)


def counts_html(title: str, rows: Mapping[str, Mapping[str, int]], label: str) -> str:
    """A small table of counts per key (``{"household": {"read": 3, ...}}``)."""
    table = pa.Table.from_pylist([{label: k, **v} for k, v in rows.items()])
    return table_html(table, title=title)

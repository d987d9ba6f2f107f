"""The notebook face: HTML views of results, Arrow tables as HTML, charts with a static PNG,
and input columns carried into batch results."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from welfare_rules import Engine
from welfare_rules.demo import City, generate_city
from welfare_rules.display import setup_notebook, table_html
from welfare_rules.errors import EvaluationError


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


@pytest.fixture(scope="module")
def city() -> City:
    return generate_city(400, seed=11)


def test_carry_all_keeps_every_input_field(engine: Engine, city: City) -> None:
    res = engine.evaluate_batch("household", city.households, members=city.persons,
                                as_of=city.as_of, carry="all")
    cols = res.to_arrow().column_names
    assert {"desil", "in_dtks", "kecamatan", "kelurahan", "floor_area_m2"} <= set(cols)
    t = res.to_arrow()
    assert t.column("desil").to_pylist() == city.households.column("desil").to_pylist()
    assert res.summary(by="desil").num_rows > 1


def test_carry_a_list_and_refuse_an_unknown_field(engine: Engine, city: City) -> None:
    res = engine.evaluate_batch("household", city.households, members=city.persons,
                                as_of=city.as_of, carry=["desil"])
    cols = res.to_arrow().column_names
    assert cols[:2] == ["id", "desil"]
    assert "kelurahan" not in cols
    with pytest.raises(EvaluationError, match="'desl' is not a field of household — did you "
                                              "mean 'desil'"):
        engine.evaluate_batch("household", city.households, members=city.persons,
                              as_of=city.as_of, carry=["desl"])
    with pytest.raises(EvaluationError, match="give 'all' or a list"):
        engine.evaluate_batch("household", city.households, members=city.persons,
                              as_of=city.as_of, carry="desil")


def test_batch_result_shows_as_html(engine: Engine, city: City) -> None:
    res = engine.evaluate_batch("household", city.households, members=city.persons,
                                as_of=city.as_of)
    html = res._repr_html_()
    assert "BatchResult: household" in html
    assert f"records: <b>{res.to_arrow().num_rows:,}</b>" in html
    assert "<th" in html
    assert "pkh_eligible" in html
    assert "more row(s) not shown" in html
    assert html.count("<tr>") == 1 + 10  # header and ten rows


def test_load_result_counts_households_and_persons_apart(engine: Engine, tmp_path: Any) -> None:
    hh = tmp_path / "h.csv"
    hh.write_text("id,kelurahan,desil\n3375010101010001,Tirto,2\n3375010101010002,Tirto,x\n"
                  "337501010101003,Tirto,3\n")  # a malformed (15-digit) No. KK
    pp = tmp_path / "p.csv"
    pp.write_text("nik,household_id,relationship\n3375014101900001,3375010101010001,head\n"
                  "337501410190002,3375010101010001,spouse\n")  # a malformed NIK
    loaded = engine.read(str(hh), members=str(pp))
    assert loaded.counts(first="household") == {
        "household": {"read": 3, "valid": 1, "quarantined": 2},
        "person": {"read": 2, "valid": 1, "quarantined": 1}}
    html = loaded._repr_html_()
    assert "LoadResult" in html
    assert "quarantine" in html
    assert "337501010101003" in "".join(loaded.quarantine.column("value").to_pylist())
    assert not re.search(r"[0-9]{15,}", html)


def test_batch_result_html_masks_the_household_key(engine: Engine, city: City) -> None:
    res = engine.evaluate_batch("household", city.households, members=city.persons,
                                as_of=city.as_of)
    assert re.search(r"[0-9]{16}", "".join(res.to_arrow().column("id").to_pylist()[:10]))
    assert not re.search(r"[0-9]{15,}", res._repr_html_())


def test_table_html_masks_ids_unless_asked() -> None:
    t = pa.table({"nik": ["3375014101900001"], "note": ["kk 3375010101010001 moved"]})
    assert not re.search(r"[0-9]{15,}", table_html(t))
    shown = table_html(t, unmask=True)
    assert "3375014101900001" in shown
    assert "3375010101010001" in shown


def test_batch_result_counts_quarantined_rows_not_problems(engine: Engine,
                                                           tmp_path: Any) -> None:
    hh = tmp_path / "h.csv"
    hh.write_text("id,kelurahan,desil,floor_area_m2\n3375010101010001,Tirto,2,30\n"
                  "3375010101010002,Tirto,x,y\n")  # one row, two bad cells
    pp = tmp_path / "p.csv"
    pp.write_text("nik,household_id,relationship\n3375014101900001,3375010101010001,head\n")
    loaded = engine.read(str(hh), members=str(pp))
    assert (loaded.rows_quarantined, loaded.quarantine.num_rows) == (1, 2)
    res = engine.evaluate_batch("household", loaded, as_of="2024-01-01")
    assert "quarantined rows: <b>1</b>" in res._repr_html_()


def test_reconciliation_and_snapshot_diff_show_as_html(engine: Engine, city: City) -> None:
    from welfare_rules.recipients.reconcile import reconcile
    from welfare_rules.recipients.snapshots import compare_snapshots, take_snapshot

    assert city.death_register is not None
    rec = reconcile(engine, city.households, city.persons,
                    registers={"death": city.death_register}, as_of=city.as_of)
    assert "Reconciliation" in rec._repr_html_()
    assert f"findings: <b>{rec.findings.num_rows:,}</b>" in rec._repr_html_()
    new = take_snapshot(engine, city.households, city.persons, as_of=city.as_of)
    old = take_snapshot(engine, city.households.slice(0, 390), city.persons,
                        as_of=datetime.date(2024, 6, 1))
    diff = compare_snapshots(old, new, engine=engine)
    html = diff._repr_html_()
    assert "SnapshotDiff" in html
    assert "entered: <b>10</b>" in html


def test_table_html_escapes_and_formats() -> None:
    t = pa.table({"name": ["<b>x</b>"], "n": [1234567]})
    html = table_html(t)
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert ">1,234,567<" in html


class _Html:
    def __init__(self) -> None:
        self.registered: dict[type, Any] = {}

    def for_type(self, ty: type, fn: Any) -> None:
        self.registered[ty] = fn


class _Formatter:
    def __init__(self) -> None:
        self.formatters = {"text/html": _Html()}


class FakeShell:
    """The part of IPython's shell that setup_notebook uses."""

    def __init__(self) -> None:
        self.display_formatter = _Formatter()


@pytest.fixture
def renderers() -> Iterator[Any]:
    """plotly's renderers, as setup_notebook leaves them for the test, then as they were."""
    import plotly.io as pio

    default, png = pio.renderers.default, pio.renderers["png"]
    yield pio.renderers
    pio.renderers.default, pio.renderers["png"] = default, png


def test_setup_notebook_shows_tables_as_html_and_charts_with_a_png(renderers: Any) -> None:
    import plotly.graph_objects as go

    shell = FakeShell()
    renderer = setup_notebook(shell)
    assert renderer == "plotly_mimetype+png"  # kaleido and Chromium are installed here
    fn = shell.display_formatter.formatters["text/html"].registered[pa.Table]
    assert "<table>" in fn(pa.table({"a": [1]}))
    bundle = renderers._build_mime_bundle(go.Figure(go.Bar(x=[1], y=[2])).to_dict())
    assert "application/vnd.plotly.v1+json" in bundle
    assert bundle["image/png"]  # base64 PNG from kaleido and the system Chromium


def _flaky_to_image(failures: int, calls: list[int]) -> Any:
    """plotly's ``to_image`` whose first ``failures`` calls fail as kaleido's did under load."""
    from kaleido.errors import JavascriptError

    def to_image(fig: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        if len(calls) <= failures:
            raise JavascriptError("ReferenceError: kaleido_scopes is not defined")
        return b"\x89PNG fake"

    return to_image


def test_the_png_is_drawn_again_when_kaleido_s_browser_fails(
        renderers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import plotly.io._base_renderers as base

    calls: list[int] = []
    assert setup_notebook(FakeShell()) == "plotly_mimetype+png"
    monkeypatch.setattr(base, "to_image", _flaky_to_image(2, calls))
    bundle = renderers._build_mime_bundle({"data": [], "layout": {}})
    assert len(calls) == 3
    assert bundle["image/png"] == "iVBORyBmYWtl"  # base64 of the third call's bytes


def test_a_browser_that_keeps_failing_raises_kaleido_s_error(
        renderers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import plotly.io._base_renderers as base
    from kaleido.errors import JavascriptError

    calls: list[int] = []
    setup_notebook(FakeShell())
    monkeypatch.setattr(base, "to_image", _flaky_to_image(99, calls))
    with pytest.raises(JavascriptError, match="kaleido_scopes"):
        renderers._build_mime_bundle({"data": [], "layout": {}})
    assert len(calls) == 3  # three attempts, then the error as kaleido raised it

    calls.clear()

    def broken(fig: Any, **kwargs: Any) -> bytes:  # not kaleido's browser: raised at once
        calls.append(1)
        raise ZeroDivisionError

    monkeypatch.setattr(base, "to_image", broken)
    with pytest.raises(ZeroDivisionError):
        renderers._build_mime_bundle({"data": [], "layout": {}})
    assert len(calls) == 1

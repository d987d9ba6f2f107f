"""``wr.allocate``: exactly min(quota, eligible) places per group, in priority order with the
reallocation's tie-break, a waitlist of the rest, reasons in Indonesian and English."""

from __future__ import annotations

import datetime
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings

import welfare_rules as wr
from welfare_rules.demo import City
from welfare_rules.errors import DataError
from welfare_rules.recipients.allocate import allocate
from welfare_rules.testing.strategies import allocation_inputs

INF = float("inf")


def key(r: dict[str, Any]) -> tuple[float, float, str]:
    """The priority order as sort key (smaller first): score desc, desil asc, id asc; a
    missing value last."""
    s = r["score"]
    d = r["desil"]
    return (-s if s is not None else INF, d if d is not None else INF, r["id"])


def check(rows: list[dict[str, Any]], quota: dict[str, int], out: list[dict[str, Any]],
          kept: bool = False) -> None:
    by_id = {r["id"]: r for r in rows}
    assert sorted(o["id"] for o in out) == sorted(by_id)
    for g in {r["kelurahan"] for r in rows}:
        mine = [o for o in out if o["kelurahan"] == g]
        eligible = [o for o in mine if by_id[o["id"]]["pkh_eligible__status"] == "true"]
        allocated = [o for o in mine if o["status"] == "allocated"]
        waitlist = sorted((o for o in mine if o["status"] == "waitlist"),
                          key=lambda o: o["waitlist"])
        assert len(allocated) == min(quota.get(g, 0), len(eligible))
        assert len(allocated) + len(waitlist) == len(eligible)
        assert [o["waitlist"] for o in waitlist] == list(range(1, len(waitlist) + 1))
        assert all(o["status"] == "not_eligible" and o["rank"] is None
                   for o in mine if o not in eligible)
        ranked = sorted(eligible, key=lambda o: o["rank"])
        assert [o["rank"] for o in ranked] == list(range(1, len(eligible) + 1))
        assert ranked[: len(allocated)] == sorted(allocated, key=lambda o: o["rank"])
        order = [((not o["kept"]) if kept else False, *key(o)) for o in ranked]
        assert order == sorted(order), "a lower priority ranked before a higher one"


@settings(max_examples=100, deadline=None)
@given(allocation_inputs())
def test_every_group_gets_min_quota_eligible_in_priority_order(
        inputs: tuple[list[dict[str, Any]], dict[str, int]]) -> None:
    rows, quota = inputs
    out = allocate(pa.Table.from_pylist(rows) if rows else _empty(), "pkh", quota).to_arrow()
    check(rows, quota, out.to_pylist())


@settings(max_examples=100, deadline=None)
@given(allocation_inputs())
def test_rotation_keeps_eligible_current_recipients_first(
        inputs: tuple[list[dict[str, Any]], dict[str, int]]) -> None:
    rows, quota = inputs
    out = allocate(pa.Table.from_pylist(rows) if rows else _empty(), "pkh", quota,
                   rotation="keep").to_arrow().to_pylist()
    for o in out:
        r = next(x for x in rows if x["id"] == o["id"])
        assert o["kept"] == (r["receives_pkh"] and r["pkh_eligible__status"] == "true")
    check(rows, quota, out, kept=True)


@settings(max_examples=50, deadline=None)
@given(allocation_inputs())
def test_one_number_is_the_quota_of_every_group(
        inputs: tuple[list[dict[str, Any]], dict[str, int]]) -> None:
    rows, _ = inputs
    if not rows:
        return
    out = allocate(pa.Table.from_pylist(rows), "pkh", 3).to_arrow().to_pylist()
    check(rows, {r["kelurahan"]: 3 for r in rows}, out)


def _empty() -> pa.Table:
    return pa.table({"id": pa.array([], pa.string()), "kelurahan": pa.array([], pa.string()),
                     "pkh_eligible": pa.array([], pa.bool_()),
                     "pkh_eligible__status": pa.array([], pa.string()),
                     "priority_score": pa.array([], pa.int64()),
                     "desil": pa.array([], pa.int64()),
                     "receives_pkh": pa.array([], pa.bool_())})


@pytest.fixture(scope="module")
def batch(base: wr.Engine, city: City) -> Any:
    return base.evaluate_batch("household", city.households, members=city.persons,
                               as_of=city.as_of,
                               carry=["kecamatan", "kelurahan", "desil", "receives_pkh"])


def test_reasons_say_why_in_both_languages(batch: Any) -> None:
    alloc = allocate(batch, "pkh", 2, lang="en")
    rows = alloc.to_arrow().to_pylist()
    wait = next(r for r in rows if r["status"] == "waitlist")
    assert wait["reason"].startswith(f"Waitlist no. {wait['waitlist']} for PKH in kelurahan")
    assert "filled by households of higher priority" in wait["reason"]
    assert alloc.explain(wait["id"], "id").startswith(
        f"Daftar tunggu PKH nomor {wait['waitlist']}")
    no = next(r for r in rows if r["eligibility"] == "false")
    assert no["reason"].startswith("Not eligible for PKH; not met: ")
    titles = {"pkh_in_dtks": "Listed in the DTKS",
              "pkh_desil": "Welfare decile within the PKH cut-off",
              "pkh_has_component": "At least one member with a counted PKH component"}
    assert no["reason"].endswith("; ".join(titles[c] for c in no["unmet"].split(",")) + ".")
    assert "tidak terpenuhi" in alloc.explain(no["id"], "id")
    unknown = [r for r in rows if r["eligibility"] == "unknown"]
    assert unknown
    assert "needs verification" in unknown[0]["reason"]
    assert alloc.to_pandas().shape[0] == len(rows)


def test_summary_counts_add_up(batch: Any) -> None:
    alloc = allocate(batch, "pkh", {"Klego": 5, "Degayu": 0, "Nowhere": 3})
    s = {r["kelurahan"]: r for r in alloc.summary.to_pylist()}
    assert s["Nowhere"]["eligible"] == 0
    assert s["Nowhere"]["unfilled"] == 3
    assert s["Degayu"]["allocated"] == 0
    assert s["Klego"]["allocated"] == min(5, s["Klego"]["eligible"])
    total = sum(r["allocated"] + r["waitlist"] + r["not_eligible"] for r in s.values())
    assert total == batch.to_arrow().num_rows


def test_five_year_review_and_maximum_tenure(batch: Any, base: wr.Engine) -> None:
    """With the start dates of receipt, recipients of 5 years or more are due for review
    (from 2025-06-01, UNVERIFIED); a maximum tenure stops keeping them first."""
    res = batch.to_arrow()
    ids = res.column("id").to_pylist()
    since = {i: datetime.date(2018, 1, 1) if n % 2 else datetime.date(2024, 1, 1)
             for n, i in enumerate(ids)}
    day = datetime.date(2025, 7, 1)
    alloc = allocate(batch, "pkh", 3, rotation="keep", since=since, as_of=day, max_tenure=6,
                     lang="en")
    rows = alloc.to_arrow().to_pylist()
    assert alloc.review_years == 5
    long = [r for r in rows if r["current"] and r["tenure_years"] == 7]
    assert long
    assert all(r["review"] for r in long)
    assert all(not r["kept"] for r in long)
    assert any("due for the 5-year review" in r["reason"] for r in long)
    assert any("competes by priority" in r["reason"] for r in long
               if r["status"] != "not_eligible")
    short = [r for r in rows if r["current"] and r["tenure_years"] == 1]
    assert not any(r["review"] for r in short)
    before = allocate(batch, "pkh", 3, since=since, as_of=datetime.date(2024, 7, 1))
    assert before.review_years is None


def test_bad_input_is_refused(batch: Any) -> None:
    with pytest.raises(DataError, match="quota for 'Klego': expected a whole number"):
        allocate(batch, "pkh", {"Klego": -1})
    with pytest.raises(DataError, match="no column 'pkhx_eligible'"):
        allocate(batch, "pkhx", 1)
    with pytest.raises(DataError, match="no column 'rt'"):
        allocate(batch, "pkh", 1, by="rt")
    with pytest.raises(DataError, match="rotation='keep' needs the current recipients"):
        allocate(batch, "bpnt", 1, rotation="keep")


def test_xlsx_and_html(batch: Any, tmp_path: Any) -> None:
    from openpyxl import load_workbook

    alloc = allocate(batch, "pkh", 2)
    wb = load_workbook(alloc.write_xlsx(tmp_path / "a.xlsx"))
    assert wb.sheetnames == ["about", "summary", "allocation"]
    ids = [c.value for c in wb["allocation"]["A"][1:]]
    assert ids
    assert all("*" in v for v in ids)
    page = alloc.write_html(tmp_path / "a.html").read_text(encoding="utf-8")
    assert "<svg" in page
    assert "musyawarah" in page


def test_the_allocation_page_renders_with_the_shared_strict_environment(batch: Any) -> None:
    """The page's template gets every name it uses (templating's StrictUndefined) and draws
    its chart."""
    page = allocate(batch, "pkh", 2, lang="en")._repr_html_()
    assert "<svg" in page

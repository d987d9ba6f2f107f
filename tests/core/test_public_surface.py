"""The typed public surface of the engine: no ``Any`` returns, ``as_of`` a date or ISO text."""

from __future__ import annotations

import datetime
import inspect
import typing

import welfare_rules as wr
from welfare_rules.engine import Engine


def test_no_public_engine_method_returns_any() -> None:
    offenders = []
    for name, fn in inspect.getmembers(Engine, inspect.isfunction):
        if name.startswith("_"):
            continue
        ret = inspect.signature(fn).return_annotation  # text: annotations are postponed
        if ret is inspect.Signature.empty or ret is typing.Any or str(ret).strip() == "Any":
            offenders.append(name)
    assert offenders == []


def test_as_of_is_a_date_or_iso_text_wherever_it_is_taken() -> None:
    engine = wr.Engine.load()
    record = {"id": "3375010101230001", "members": []}
    by_text = engine.evaluate("household", record, as_of="2024-01-01")
    by_date = engine.evaluate("household", record, as_of=datetime.date(2024, 1, 1))
    assert by_text.as_of == by_date.as_of == datetime.date(2024, 1, 1)
    assert by_text.to_dict() == by_date.to_dict()
    assert engine.plan("2024-01-01") is engine.plan(datetime.date(2024, 1, 1))
    for name in ("evaluate", "evaluate_batch", "plan"):
        ann = str(inspect.signature(getattr(Engine, name)).parameters["as_of"].annotation)
        assert "date" in ann, (name, ann)
        assert "str" in ann, (name, ann)


def test_no_public_masking_function_takes_or_returns_any() -> None:
    """masking.py is used by every layer; its functions say what they take and give
    (mask_id_sql a sqlglot expression, mask_table an Arrow table: review2 #24)."""
    from welfare_rules import masking

    sigs = {name: inspect.signature(getattr(masking, name)) for name in masking.__all__
            if inspect.isfunction(getattr(masking, name))}
    # mask_data gives back what it is given (any JSON-like value), masked
    assert sorted(n for n, s in sigs.items() if s.return_annotation == "Any") == ["mask_data"]
    assert [(p.annotation, sigs["mask_id_sql"].return_annotation)
            for p in sigs["mask_id_sql"].parameters.values()] == [
        ("exp.Expression", "exp.Expression")]
    assert (sigs["mask_table"].parameters["table"].annotation,
            sigs["mask_table"].return_annotation) == ("pa.Table", "pa.Table")

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

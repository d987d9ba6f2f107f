"""An engine is immutable and safe to share between threads."""

from __future__ import annotations

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

RULES = """
- id: t_amount
  value: x * param.t.rate
- id: t_poor
  at_least: 2
  of:
    - a
    - id: t_big
      when: x > param.t.limit
    - "count(members, age < 18) >= 2"
- id: t_level
  ladder:
    - {level: one}
    - {level: two, when: t_poor}
    - {level: three, when: c}
- id: t_band
  table:
    hit_policy: first
    inputs: [x]
    rows:
      - {when: ["< param.t.limit"], then: low}
      - {when: ["-"], then: high}
- id: t_dead
  kind: check
  when: "True"
  for_each: members
  where: not alive
  severity: warning
  message: {id: "NIK {nik} meninggal", en: "NIK {nik} died"}
"""
PERSON_RULES = """
- id: t_rank
  value: rank(by=[desc(age), nik])
"""
PARAMS = """
rate:
  values: {2000-01-01: 1, 2010-01-01: 2, 2020-01-01: 3, 2022-06-01: 5}
limit:
  values: {2000-01-01: 3, 2015-01-01: 5, 2021-01-01: 8}
"""
DATES = [datetime.date(2005, 1, 1) + datetime.timedelta(days=131 * i) for i in range(64)]


def records():
    out = []
    for i in range(12):
        out.append({
            "id": f"33750101010{i:05d}", "x": i, "a": i % 2 == 0, "c": i % 3 == 0 or None,
            "members": [{"nik": f"3375{i:02d}{j:010d}", "age": (i * 7 + j * 11) % 60,
                         "alive": (i + j) % 4 != 0} for j in range(i % 5)]})
    return out


def snapshot(engine, record, as_of):
    d = engine.evaluate("household", record, as_of=as_of)
    return (as_of, record["id"], d.to_dict(), [m.to_dict() for m in d.members],
            [(f.check, f.severity, f.message) for f in d.findings],
            d.explain("t_poor", lang="en"))


def test_eight_threads_give_the_results_of_sequential_evaluation(engine_from):
    """One engine, cold, evaluated from 8 threads on different dates matches a sequential run."""
    shared = engine_from(files={"h.yaml": f"id: t_h\nentity: household\nrules:\n{_indent(RULES)}",
                                "p.yaml": f"id: t_p\nentity: person\nrules:\n"
                                          f"{_indent(PERSON_RULES)}"}, params=PARAMS)
    reference = engine_from(files={"h.yaml": f"id: t_h\nentity: household\nrules:\n"
                                             f"{_indent(RULES)}",
                                   "p.yaml": f"id: t_p\nentity: person\nrules:\n"
                                             f"{_indent(PERSON_RULES)}"}, params=PARAMS)
    jobs = [(r, d) for d in DATES for r in records()]
    expected = [snapshot(reference, r, d) for r, d in jobs]
    start = threading.Barrier(8)

    def work(chunk):
        start.wait()
        return [snapshot(shared, r, d) for r, d in chunk]

    chunks = [jobs[i::8] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, chunks))
    actual = [None] * len(jobs)
    for i, chunk in enumerate(results):
        for k, item in enumerate(chunk):
            actual[i + 8 * k] = item
    assert expected == actual


def test_dates_differ_in_the_results(engine_from):
    """The thread test is meaningful: the dates it uses give different results."""
    eng = engine_from(files={"h.yaml": f"id: t_h\nentity: household\nrules:\n{_indent(RULES)}",
                             "p.yaml": f"id: t_p\nentity: person\nrules:\n"
                                       f"{_indent(PERSON_RULES)}"}, params=PARAMS)
    rec = records()[6]
    assert 4 <= len({eng.evaluate("household", rec, as_of=d).value("t_amount") for d in DATES})


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.strip("\n").splitlines()) + "\n"

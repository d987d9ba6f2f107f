"""The public engine: the engine core with the faces it hands its results to.

:class:`~welfare_rules.core.EngineCore` (the engine layer) loads and checks the rules and
evaluates records; it knows nothing of decisions or batch results. :class:`Engine` is that
core plus the two faces users expect of it: one evaluated record becomes a
:class:`~welfare_rules.decision.Decision` (values, statuses, findings, explanations, sound
unknowns), and :meth:`Engine.evaluate_batch` hands a table to :mod:`welfare_rules.batch`. The
faces call the engine core and never the reverse (docs/architecture.md); this module is the one
place they meet, and nothing below the faces imports it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .backends.base import Backend
from .batch import BatchResult, evaluate_batch
from .core import Contribution, EngineCore
from .decision import Decision
from .plan import UnknownRuleError, as_of_date

if TYPE_CHECKING:
    from .backends.python import RecordPlan
    from .errors import InputProblem

__all__ = ["Contribution", "Engine", "UnknownRuleError"]


class Engine(EngineCore[Decision]):
    """A loaded, checked set of rules, ready to evaluate. Create it with :meth:`load`.

    :meth:`evaluate` gives a :class:`~welfare_rules.decision.Decision` per record,
    :meth:`evaluate_batch` a :class:`~welfare_rules.batch.BatchResult` per table.
    """

    def decide(self, entity: str, record: Mapping[str, Any], as_of: datetime.date,
               plan: RecordPlan, values: list[Any], members: Sequence[Any],
               problems: Sequence[InputProblem]) -> Decision:
        """The decision on one evaluated record (see :meth:`EngineCore.decide`)."""
        return Decision(self, entity, record, as_of, plan, values, members, problems)

    def evaluate_batch(self, entity: str, data: Any, *, members: Any = None,
                       as_of: datetime.date | str | None = None,
                       backend: str | Backend = "duckdb", **kwargs: Any) -> BatchResult:
        """Evaluate a table of records (see :func:`welfare_rules.batch.evaluate_batch` for the
        options).

        Args:
            entity: the entity evaluated.
            data: a LoadResult, a path, a DataFrame, an Arrow table, a DuckDB relation or (Spark)
                a Spark DataFrame.
            members: the child table, for inputs other than a LoadResult.
            as_of: the evaluation date, a date or ``YYYY-MM-DD`` (default today).
            backend: a registered backend's name (:attr:`backends`) or a backend.
            **kwargs: the other options of :func:`~welfare_rules.batch.evaluate_batch`.
        """
        return evaluate_batch(self, entity, data, members=members, as_of=as_of_date(as_of),
                              backend=backend, **kwargs)

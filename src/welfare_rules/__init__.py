"""welfare-rules: declarative social-assistance eligibility, LKS maturity and data-quality rules.

The public names are re-exported here; everything else is private by name or by module.
"""

from __future__ import annotations

from .decision import Decision, Finding, MemberDecision
from .engine import Engine
from .errors import (
    CycleError,
    DataError,
    ErrorGroup,
    EvaluationError,
    ExpressionSyntaxError,
    HitPolicyError,
    InputError,
    ParameterError,
    PluginError,
    RuleLoadError,
    RuleTypeError,
    WelfareRulesError,
)
from .expr.functions import Function
from .hookspecs import hookimpl
from .impact import ImpactResult, impact
from .recipients.allocate import Allocation, allocate
from .reform import Reform, load_reform

__version__ = "0.1.0"

__all__ = [
    "Allocation",
    "CycleError",
    "DataError",
    "Decision",
    "Engine",
    "ErrorGroup",
    "EvaluationError",
    "ExpressionSyntaxError",
    "Finding",
    "Function",
    "HitPolicyError",
    "ImpactResult",
    "InputError",
    "MemberDecision",
    "ParameterError",
    "PluginError",
    "Reform",
    "RuleLoadError",
    "RuleTypeError",
    "WelfareRulesError",
    "__version__",
    "allocate",
    "hookimpl",
    "impact",
    "load_reform",
]

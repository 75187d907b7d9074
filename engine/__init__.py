"""huiqi (惠企) engine: loads the rule pack, derives facts, evaluates profiles into verdicts and
renders explanations on request. Knows no measure by name.

This module is the engine's public API: the service, the command line and the tests use what it
exports, never the modules behind it.
"""

from . import catalogue, vocabulary
from .errors import (
    CompileError,
    EngineError,
    HuiqiError,
    InvalidOverride,
    InvalidProfile,
    UnknownMeasure,
    errors_of,
    field_path,
    message,
    problem_from_validation,
)
from .evaluate import Engine
from .explain import FULL, VERDICT, Options
from .facts import path_label
from .loader import LintError
from .profile import CREDIT_CODE_CHARSET, Day, Profile, credit_code_check_char
from .verdict import Evaluation, NodeVerdict, Subject, Verdict

__all__ = [
    "CREDIT_CODE_CHARSET",
    "FULL",
    "VERDICT",
    "CompileError",
    "Day",
    "Engine",
    "EngineError",
    "Evaluation",
    "HuiqiError",
    "InvalidOverride",
    "InvalidProfile",
    "LintError",
    "NodeVerdict",
    "Options",
    "Profile",
    "Subject",
    "UnknownMeasure",
    "Verdict",
    "catalogue",
    "credit_code_check_char",
    "errors_of",
    "field_path",
    "message",
    "path_label",
    "problem_from_validation",
    "vocabulary",
]

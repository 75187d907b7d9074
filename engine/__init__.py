"""huiqi (惠企) engine: loads the rule pack, derives facts, evaluates and explains. Knows no measure by name."""

from .evaluate import Engine, EngineError, UnknownMeasure

__all__ = ["Engine", "EngineError", "UnknownMeasure"]

"""What the services refuse, as domain errors: no HTTP in them. ``api/problems.py`` turns each into
its problem+json answer (the kind names the problem type, and so its status) in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal, in Chinese and English, with the fields at fault (``errors``: field, location,
    message, value; the shape of a validation error)."""

    kind = "validation-error"

    def __init__(self, zh: str, en: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.errors = errors


class Invalid(DomainError):
    kind = "validation-error"


class NotFound(DomainError):
    kind = "not-found"


class Conflict(DomainError):
    kind = "conflict"


class Forbidden(DomainError):
    kind = "forbidden"


class TooLarge(DomainError):
    kind = "payload-too-large"


class UnknownMeasures(DomainError):
    kind = "unknown-measure"


class PackUnavailable(DomainError):
    """The rule pack a run was made with is not loaded here (its words cannot be rendered)."""

    kind = "rule-pack-unavailable"

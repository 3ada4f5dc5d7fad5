"""Errors a caller can act on. Each carries the exit code the CLI maps it to (README "Exit codes")."""

from __future__ import annotations

from dataclasses import dataclass


class DealcoachError(Exception):
    """Base of every error dealcoach raises on purpose. Subclasses set their exit code; the base's is
    "internal error" (5), never 1, which means only "gate blocked"."""

    exit_code = 5


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with a deal record: where, what was given, what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(deal)'}: {self.message}"


class DealInputError(DealcoachError):
    """A deal record that cannot be read or does not validate."""

    exit_code = 3

    def __init__(self, source: str, problems: list[InputProblem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))

    def __reduce__(self):
        """Picklable, so worker processes can pass it back."""
        return (DealInputError, (self.source, self.problems))

    def as_dict(self) -> dict:
        return {"source": self.source, "problems": [{"path": p.path, "message": p.message} for p in self.problems]}


class PlaybookError(DealcoachError):
    """A playbook directory, stage model or template that cannot be used."""

    exit_code = 4


class RuleError(DealcoachError):
    """A rule raised while evaluating a deal: a bug in the rule set, never in the input."""

    exit_code = 5

"""Per-row failure reasons of the SCOPE encoder.

Every failure is a ``ScopeError`` with a short machine-readable ``kind`` so batch runs can
collect an error table (id, kind, message) instead of raising for the whole batch.
"""

from __future__ import annotations

KINDS = ("parse", "empty", "disordered", "unknown_element", "symmetry", "invalid", "crash")
# "crash": the worker process encoding the row died (out of memory, killed); see batch.py


class ScopeError(ValueError):
    """A structure that cannot be encoded, with the reason."""

    kind = "invalid"

    def __init__(self, message: str, kind: str | None = None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class ParseError(ScopeError):
    kind = "parse"


class EmptyStructureError(ScopeError):
    kind = "empty"


class DisorderedSiteError(ScopeError):
    kind = "disordered"


class UnknownElementError(ScopeError):
    kind = "unknown_element"


class SymmetryError(ScopeError):
    kind = "symmetry"

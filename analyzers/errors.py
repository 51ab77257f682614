"""Errors a user can act on: a message, and the file and line where there is one."""
from __future__ import annotations

from typing import Optional


class ChangeGateError(Exception):
    """A usage or configuration error (CLI exit 2). Never carries a traceback to the user."""

    def __init__(self, message: str, path: Optional[str] = None, line: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


class PolicyError(ChangeGateError):
    """The policy file (at the base revision) is malformed or invalid."""


class GitError(ChangeGateError):
    """git could not answer (not a repository, unknown revision, ...)."""

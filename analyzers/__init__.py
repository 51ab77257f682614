"""ChangeGate's engine: pure and editor-agnostic. ChangeSet in, Report out."""
from .engine import analyze
from .errors import ChangeGateError, GitError, PolicyError
from .model import ChangeSet, FileChange, Finding, Hunk, Report, Requirement

__all__ = ["analyze", "ChangeGateError", "GitError", "PolicyError", "ChangeSet", "FileChange", "Finding",
           "Hunk", "Report", "Requirement"]

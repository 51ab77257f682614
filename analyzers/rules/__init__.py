"""Built-in rules. Importing this package registers every rule module."""
from . import capacity, governance  # noqa: F401  (registration side effect)
from .registry import RULES, FileFacts, Hit, Rule, RuleMeta, rule

__all__ = ["RULES", "FileFacts", "Hit", "Rule", "RuleMeta", "rule"]

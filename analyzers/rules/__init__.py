"""Built-in rules. Importing this package registers every rule module."""
from . import capacity, governance  # noqa: F401  (registration side effect)
from . import iam  # noqa: F401
from . import ci  # noqa: F401
from . import kubernetes, traffic  # noqa: F401
from . import code  # noqa: F401
from . import consistency, dns, env, flags, schema  # noqa: F401
from . import docker  # noqa: F401
from . import terraform  # noqa: F401
from .registry import RULES, FileFacts, Hit, Rule, RuleMeta, rule

__all__ = ["RULES", "FileFacts", "Hit", "Rule", "RuleMeta", "rule"]

"""Shared ownership of atomically-synced fields (issue 11 §1): see analyze.py and docs/ownership.md."""

from converter.ownership.analyze import Decision, OwnershipReport, Writer, analyze_ownership
from converter.ownership.rules import OwnershipRules, load_rules

__all__ = ["Decision", "OwnershipReport", "OwnershipRules", "Writer", "analyze_ownership", "load_rules"]

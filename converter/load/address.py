"""Terraform address helpers shared by the state and HCL sides."""

from __future__ import annotations

import re

_INDEX = re.compile(r"\[(?:\"(?:[^\"\\]|\\.)*\"|[0-9]+)\]")


def config_address(address: str) -> str:
    """Instance address → configuration address (all instance keys removed), which is how HCL names blocks:
    `module.eks.module.ng["default"].aws_eks_node_group.this[0]` → `module.eks.module.ng.aws_eks_node_group.this`."""
    return _INDEX.sub("", address.split(" (deposed", 1)[0])


def resource_of(address: str) -> str:
    """Instance address → resource address (the last key removed): what state `dependencies` name."""
    addr = address.split(" (deposed", 1)[0]
    return re.sub(r"\[(?:\"(?:[^\"\\]|\\.)*\"|[0-9]+)\]$", "", addr)

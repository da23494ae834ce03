"""Named transforms for the smaller services (S3, RDS, ECR, …), registered into the same TRANSFORMS table."""

from __future__ import annotations

from typing import Any  # noqa: F401

from converter.mapping.transforms import Context, post, transform  # noqa: F401

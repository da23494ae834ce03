"""Fixtures shared across test modules: the moto server (tests.moto_server) and dummy AWS credentials for the
stubbed-client tests (tests.stubbed_aws)."""

import os
import tempfile

pytest_plugins = ["tests.moto_server", "tests.stubbed_aws"]


def pytest_configure(config):
    """The CLI caches HCL parses in the user's cache directory: tests use a throw-away one (per process)."""
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="tf2kro-test-cache-")

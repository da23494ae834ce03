"""Fixtures shared across test modules: the moto server (tests.moto_server) and dummy AWS credentials for the
stubbed-client tests (tests.stubbed_aws)."""

pytest_plugins = ["tests.moto_server", "tests.stubbed_aws"]

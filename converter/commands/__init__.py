"""CLI subcommands."""

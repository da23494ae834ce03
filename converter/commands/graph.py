"""`tf2kro graph`: the dependency graph with phases, as mermaid, dot or JSON."""

from __future__ import annotations

import json

import click

from converter.commands.common import PHASES, estate_options, open_roots


@click.command()
@estate_options
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "json"]), default="mermaid", show_default=True)
@click.option("--phase", type=click.Choice(PHASES), default=None)
def graph(state_path, hcl_dir, var_files, region, fmt, phase):
    """Print the resource dependency graph (edges point from a dependency to its dependent)."""
    from converter.estate.roots import merged_graph  # networkx: imported to run, not for `--help`
    from converter.graph.build import to_dot, to_json, to_mermaid

    roots, multi = open_roots(state_path, hcl_dir, var_files, region)
    eg = merged_graph(roots) if multi else roots.estates[0].graph
    if fmt == "mermaid":
        click.echo(to_mermaid(eg, phase), nl=False)
    elif fmt == "dot":
        click.echo(to_dot(eg), nl=False)
    else:
        click.echo(json.dumps(to_json(eg), indent=2))

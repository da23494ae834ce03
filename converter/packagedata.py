"""Where tf2kro's data directories are, installed or in a checkout.

Why two places: the user wants `mappings/` and `samples/estate/` at the top of the repository (easy to review and
edit), but an installed wheel has no repository around it. The wheel build copies them into the package as
`converter/_data/mappings` and `converter/_data/sample` (pyproject.toml, hatch `force-include`), so:
- installed (wheel, Docker image): read `converter/_data/<name>`;
- checkout or editable install: `converter/_data` does not exist, read the top-level directory, so an edit to a
  mapping is live without reinstalling.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED = PACKAGE_DIR / "_data"
CHECKOUT = PACKAGE_DIR.parent


def data_dir(packaged_name: str, checkout_path: str) -> Path:
    """`converter/_data/<packaged_name>` when installed from a wheel, else `<checkout>/<checkout_path>`."""
    packaged = PACKAGED / packaged_name
    return packaged if packaged.is_dir() else CHECKOUT / checkout_path


def mappings_dir() -> Path:
    """The mapping files (one YAML per AWS service)."""
    return data_dir("mappings", "mappings")


def sample_dir() -> Path:
    """The bundled sample estate (terraform.tfstate + its HCL), selected with `--sample`."""
    return data_dir("sample", "samples/estate")

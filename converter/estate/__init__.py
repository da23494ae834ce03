"""Estates of several Terraform roots: the estate file (`tf2kro.yaml`), loading every root, and the references
between roots (a value of one root that is an identifier of an object another root manages)."""

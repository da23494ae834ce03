"""tf2kro: Terraform (HCL + tfstate) → ACK resources in kro ResourceGraphDefinitions, adopted, never recreated.

Pipeline, one subpackage per stage: load → graph → mapping → emit, and diff against live AWS.
"""

__version__ = "0.1.0"

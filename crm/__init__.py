"""CRM records → dealcoach deals: Salesforce, HubSpot and Odoo, each driven by a mapping file.

Stage names and role labels are customised in every CRM org, so nothing is
guessed: every stage, role or picklist value must be in the mapping (shipped
defaults cover each CRM's standard values), and an unmapped one is reported
with the record field it came from.
"""

from .common import MappingError, load_mapping
from .convert import KINDS, convert

__all__ = ["KINDS", "MappingError", "convert", "load_mapping"]

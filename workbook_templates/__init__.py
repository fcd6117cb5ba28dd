"""The Maillon template and the demo portfolio, generated from the contract's code."""
from pathlib import Path

TEMPLATE_FILE = "maillon_template.xlsx"


def template_path() -> Path:
    """The shipped template workbook (regenerate with ``make template``)."""
    return Path(__file__).with_name(TEMPLATE_FILE)

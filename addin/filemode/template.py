"""The shipped template: user-owned sheets from ``workbook_templates``, engine-owned sheets rendered empty.

``python -m maillon.addin.filemode.template`` (``make template``) regenerates
``workbook_templates/maillon_template.xlsx``; a test checks that the shipped
file matches what this code builds. It lives in the file mode because it needs
the renderer and the XlsxWriter backend, which ``workbook_templates`` may not
import.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import xlsxwriter

from maillon.addin.filemode.write import write_specs
from maillon.addin.render.layout import layout
from maillon.workbook_templates.build import TEMPLATE_PATH, build_template, empty_result

__all__ = ["build_default_template", "main"]


def _add_engine_sheets(workbook: xlsxwriter.Workbook) -> None:
    write_specs(workbook, layout(empty_result()))


def build_default_template(path=TEMPLATE_PATH) -> Path:
    """Build the template exactly as shipped: defaults, and every engine-owned sheet empty."""
    return build_template(path, add_engine_sheets=_add_engine_sheets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m maillon.addin.filemode.template",
        description="Regenerate the Maillon template workbook.")
    parser.add_argument("output", nargs="?", default=str(TEMPLATE_PATH),
                        help=f"where to write it (default: {TEMPLATE_PATH})")
    args = parser.parse_args(argv)
    path = build_default_template(args.output)
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

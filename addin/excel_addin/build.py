"""Build ``maillon.xlam``, the Excel ribbon add-in of the live mode.

The add-in is xlwings' own custom ribbon add-in template -- the file that
``xlwings quickstart NAME --addin --ribbon`` copies -- with one change: its
ribbon (``customUI/customUI.xml``) shows a **Maillon** tab holding one large
**Recompute segments** button. Everything else, the VBA project in particular,
is the template's, byte for byte:

* the button calls the template's macro ``RibbonMyAddin.RunMain``;
* ``RunMain`` takes the add-in's file name without extension (``maillon.xlam``
  gives ``maillon``), runs ``import maillon; maillon.main()`` through
  ``RunPython``, and :func:`maillon.main` recomputes ``xw.Book.caller()``;
* the template's VBA keeps ``PROJECT_NAME = "myaddin"``, so the add-in reads
  its per-user settings (the Python interpreter) from ``myaddin.conf``
  (see :mod:`maillon.addin.excel_addin.install`);
* the VBA is tied to the xlwings version it ships with (it loads
  ``xlwings64-<version>.dll`` on Windows and ``xlwings-<version>.applescript``
  on macOS), so ``maillon addin install`` rebuilds the add-in from the xlwings
  installed next to Maillon rather than copying the committed file.

The build is reproducible: members keep the template's order, every member
gets the same fixed timestamp and attributes, so the same template gives the
same bytes. Run it after upgrading xlwings and commit ``addin/maillon.xlam``::

    python -m maillon.addin.excel_addin.build            # writes addin/maillon.xlam
    python -m maillon.addin.excel_addin.build --check    # exit 1 if the file is stale

Example
-------
>>> import tempfile, zipfile, pathlib
>>> out = build_xlam(pathlib.Path(tempfile.mkdtemp()) / "maillon.xlam")
>>> "Recompute segments" in zipfile.ZipFile(out).read(CUSTOMUI_PART).decode()
True
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

#: The add-in's file name. Its stem is the Python module the VBA imports.
ADDIN_NAME = "maillon.xlam"
#: Where the repository keeps the built add-in.
DEFAULT_OUTPUT = Path(__file__).resolve().parent / ADDIN_NAME
#: The xlwings template (``xlwings quickstart NAME --addin --ribbon``).
TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
#: The ribbon part inside the package (referenced from ``_rels/.rels``).
CUSTOMUI_PART = "customUI/customUI.xml"
#: The template's VBA procedure behind the button (module.procedure).
RIBBON_MACRO = "RibbonMyAddin.RunMain"
#: ``PROJECT_NAME`` in the template's ``xlwings`` VBA module: names the config
#: sheet (``myaddin.conf``) and the per-user config file the add-in reads.
VBA_PROJECT_NAME = "myaddin"

TAB_LABEL = "Maillon"
GROUP_LABEL = "Segments"
BUTTON_LABEL = "Recompute segments"
BUTTON_IMAGE = "RefreshAll"  # a built-in Office icon (imageMso)
BUTTON_SCREENTIP = "Recompute segments"
BUTTON_SUPERTIP = ("Reads Settings, Expectations, Accounts, Field Feedback and Playbook, "
                   "then rewrites the Segments, ABC Matrix, Reconciliation, Target List, "
                   "Action Plan, Dashboard and History sheets. Your edits in the editable "
                   "columns are kept.")

# One fixed timestamp for every member: the zip is the same for the same input.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
_CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"


def module_name(addin_name: str = ADDIN_NAME) -> str:
    """The Python module ``RunMain`` imports: the add-in's file name without extension.

    >>> module_name("maillon.xlam")
    'maillon'
    """
    return Path(addin_name).stem


def template_path() -> Path:
    """xlwings' own ribbon add-in template, from the installed xlwings package."""
    import xlwings

    path = Path(xlwings.__file__).resolve().parent / TEMPLATE_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"xlwings {xlwings.__version__} has no {TEMPLATE_NAME} at {path}; "
            "install an xlwings that provides 'xlwings quickstart NAME --addin --ribbon'.")
    return path


def customui_xml() -> str:
    """The ribbon: a Maillon tab with one large Recompute segments button."""
    return (
        f'<customUI xmlns="{_CUSTOMUI_NS}">\n'
        "  <ribbon>\n"
        "    <tabs>\n"
        f'      <tab id="maillonTab" label={quoteattr(TAB_LABEL)}>\n'
        f'        <group id="maillonGroup" label={quoteattr(GROUP_LABEL)}>\n'
        '          <button id="maillonRecompute"'
        f" label={quoteattr(BUTTON_LABEL)}"
        ' size="large"'
        f" imageMso={quoteattr(BUTTON_IMAGE)}"
        f" screentip={quoteattr(BUTTON_SCREENTIP)}"
        f" supertip={quoteattr(BUTTON_SUPERTIP)}"
        f" onAction={quoteattr(RIBBON_MACRO)} />\n"
        "        </group>\n"
        "      </tab>\n"
        "    </tabs>\n"
        "  </ribbon>\n"
        "</customUI>\n"
    )


def build_bytes(template: Path | None = None) -> bytes:
    """The add-in as bytes: the template with Maillon's ribbon."""
    import io

    template = Path(template) if template is not None else template_path()
    buffer = io.BytesIO()
    with zipfile.ZipFile(template) as src, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        names = [info.filename for info in src.infolist()]
        if CUSTOMUI_PART not in names:
            raise ValueError(f"{template} has no {CUSTOMUI_PART}: not xlwings' ribbon template")
        for name in names:
            data = customui_xml().encode("utf-8") if name == CUSTOMUI_PART else src.read(name)
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # MS-DOS, as Excel writes it
            info.external_attr = 0
            dst.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def build_xlam(output: Path | str = DEFAULT_OUTPUT, template: Path | None = None) -> Path:
    """Write the add-in to ``output`` (atomically) and return its path.

    ``output`` must end in ``.xlam`` and its stem is the module the add-in
    imports, so it should stay ``maillon.xlam``.
    """
    output = Path(output)
    if output.suffix.lower() != ".xlam":
        raise ValueError(f"output must be an .xlam file, got {str(output)!r}")
    data = build_bytes(template)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(output)
    return output


def is_up_to_date(path: Path | str = DEFAULT_OUTPUT, template: Path | None = None) -> bool:
    """Whether ``path`` holds exactly what a build from ``template`` gives (member by member)."""
    import io

    path = Path(path)
    if not path.is_file():
        return False
    fresh = zipfile.ZipFile(io.BytesIO(build_bytes(template)))
    with zipfile.ZipFile(path) as current:
        if current.namelist() != fresh.namelist():
            return False
        return all(current.read(n) == fresh.read(n) for n in fresh.namelist())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m maillon.addin.excel_addin.build",
        description="Build maillon.xlam from xlwings' ribbon add-in template.")
    parser.add_argument("--output", "-o", default=str(DEFAULT_OUTPUT),
                        help="where to write the add-in (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the file differs from a fresh build")
    args = parser.parse_args(argv)
    if args.check:
        if is_up_to_date(args.output):
            print(f"{args.output} is up to date.")
            return 0
        print(f"{args.output} is stale: run python -m maillon.addin.excel_addin.build", file=sys.stderr)
        return 1
    path = build_xlam(args.output)
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

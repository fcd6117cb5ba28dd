"""Build the Excel ribbon add-ins of the live mode: ``maillon.xlam`` and its two siblings.

Each add-in is xlwings' own custom ribbon add-in template -- the file that
``xlwings quickstart NAME --addin --ribbon`` copies -- with one change: its
ribbon (``customUI/customUI.xml``) adds one large button to the **Maillon**
tab. Everything else, the VBA project in particular, is the template's, byte
for byte:

* the button calls the template's macro ``RibbonMyAddin.RunMain``;
* ``RunMain`` takes the add-in's file name without extension (``maillon.xlam``
  gives ``maillon``), runs ``import maillon; maillon.main()`` through
  ``RunPython``, and :func:`maillon.main` recomputes ``xw.Book.caller()``;
* ``RunMain`` ignores which control called it (``Sub RunMain(control As
  IRibbonControl)`` then ``mymodule = Left(ThisWorkbook.Name, ...)``), so one
  add-in can only ever run one Python function: each further button is an
  add-in of its own, named like its module -- ``maillon_merge.xlam`` runs
  ``maillon_merge.main()`` (**Merge copies…**), ``maillon_import.xlam`` runs
  ``maillon_import.main()`` (**Import…**) (see :data:`ADDINS`);
* the three ribbons share one tab and one group: the tab and the group carry a
  qualified id (``idQ="maillon:maillonTab"``) in one namespace of our own
  (:data:`RIBBON_NAMESPACE`). [MS-CUSTOMUI] 2.3.9 (ST_QID): "If multiple Custom
  UI documents refer to controls in the same namespace, they can share common
  containers." Each button keeps a plain ``id`` and its ``onAction``: a control
  calls back into the file whose ribbon defines it, so each button runs its own
  add-in's ``RunMain``. The buttons of a shared group appear in the order Excel
  loads the add-ins;
* the template's VBA keeps ``PROJECT_NAME = "myaddin"``, so every add-in reads
  the same per-user settings (the Python interpreter) from ``myaddin.conf``
  (see :mod:`maillon.addin.excel_addin.install`);
* the VBA is tied to the xlwings version it ships with (it loads
  ``xlwings64-<version>.dll`` on Windows and ``xlwings-<version>.applescript``
  on macOS), so ``maillon addin install`` rebuilds the add-ins from the xlwings
  installed next to Maillon rather than copying the committed files.

The build is reproducible: members keep the template's order, every member
gets the same fixed timestamp and attributes, so the same template gives the
same bytes. Run it after upgrading xlwings and commit the ``.xlam`` files::

    python -m maillon.addin.excel_addin.build            # writes the three add-ins
    python -m maillon.addin.excel_addin.build --check    # exit 1 if one is stale

Example
-------
>>> import tempfile, zipfile, pathlib
>>> out = build_xlam(pathlib.Path(tempfile.mkdtemp()) / "maillon.xlam")
>>> "Recompute segments" in zipfile.ZipFile(out).read(CUSTOMUI_PART).decode()
True
>>> [a.file for a in ADDINS]
['maillon.xlam', 'maillon_merge.xlam', 'maillon_import.xlam']
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from dataclasses import dataclass
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
GROUP_LABEL = "Team workbook"
#: The namespace of the qualified ids the three ribbons share (any unique string).
RIBBON_NAMESPACE = "urn:maillon:ribbon"
TAB_IDQ = "maillon:maillonTab"
GROUP_IDQ = "maillon:maillonGroup"


@dataclass(frozen=True)
class Addin:
    """One add-in: its file (whose stem is the module ``RunMain`` imports) and its button."""

    file: str
    button_id: str
    label: str
    image: str  # a built-in Office icon (imageMso)
    supertip: str

    @property
    def module(self) -> str:
        return module_name(self.file)


ADDINS = (
    Addin("maillon.xlam", "maillonRecompute", "Recompute segments", "RefreshAll",
          "Reads Settings, Expectations, Accounts, Field Feedback and Playbook, then rewrites "
          "the Segments, ABC Matrix, Reconciliation, Target List, Action Plan, Dashboard and "
          "History sheets. Your edits in the editable columns are kept. Decisions typed on "
          "the Merge or Import Review sheet are applied first."),
    Addin("maillon_merge.xlam", "maillonMerge", "Merge copies…", "FileOpen",
          "Asks for the copies of this workbook that came back by email, then merges them "
          "into it (as 'maillon merge' does) and recomputes: conflicts are listed on the "
          "Merge sheet, to decide in its Decision column. The workbook is saved first."),
    Addin("maillon_import.xlam", "maillonImport", "Import…", "GetExternalDataFromText",
          "Asks for CRM, marketing or SIRENE exports (CSV or XLSX), then adds their rows to "
          "Accounts (as 'maillon import' does); probable duplicates wait on the Import Review "
          "sheet for your decision. The workbook is saved first."),
)
#: The add-ins by file name.
ADDIN_BY_FILE = {a.file: a for a in ADDINS}

BUTTON_LABEL = ADDINS[0].label
BUTTON_IMAGE = ADDINS[0].image
BUTTON_SCREENTIP = ADDINS[0].label
BUTTON_SUPERTIP = ADDINS[0].supertip

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


def customui_xml(addin: Addin | str = ADDIN_NAME) -> str:
    """The ribbon of one add-in: its large button in the shared Maillon tab and group."""
    if isinstance(addin, str):
        addin = ADDIN_BY_FILE[Path(addin).name]
    return (
        f'<customUI xmlns="{_CUSTOMUI_NS}" xmlns:maillon={quoteattr(RIBBON_NAMESPACE)}>\n'
        "  <ribbon>\n"
        "    <tabs>\n"
        f'      <tab idQ="{TAB_IDQ}" label={quoteattr(TAB_LABEL)}>\n'
        f'        <group idQ="{GROUP_IDQ}" label={quoteattr(GROUP_LABEL)}>\n'
        f"          <button id={quoteattr(addin.button_id)}"
        f" label={quoteattr(addin.label)}"
        ' size="large"'
        f" imageMso={quoteattr(addin.image)}"
        f" screentip={quoteattr(addin.label)}"
        f" supertip={quoteattr(addin.supertip)}"
        f" onAction={quoteattr(RIBBON_MACRO)} />\n"
        "        </group>\n"
        "      </tab>\n"
        "    </tabs>\n"
        "  </ribbon>\n"
        "</customUI>\n"
    )


def build_bytes(template: Path | None = None, addin: Addin | str = ADDIN_NAME) -> bytes:
    """One add-in as bytes: the template with that add-in's ribbon."""
    import io

    template = Path(template) if template is not None else template_path()
    buffer = io.BytesIO()
    with zipfile.ZipFile(template) as src, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        names = [info.filename for info in src.infolist()]
        if CUSTOMUI_PART not in names:
            raise ValueError(f"{template} has no {CUSTOMUI_PART}: not xlwings' ribbon template")
        for name in names:
            data = customui_xml(addin).encode("utf-8") if name == CUSTOMUI_PART \
                else src.read(name)
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # MS-DOS, as Excel writes it
            info.external_attr = 0
            dst.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def build_xlam(output: Path | str = DEFAULT_OUTPUT, template: Path | None = None) -> Path:
    """Write one add-in to ``output`` (atomically) and return its path.

    ``output`` must be named like one of :data:`ADDINS` (``maillon.xlam``,
    ``maillon_merge.xlam``, ``maillon_import.xlam``): its stem is the module the
    add-in imports, and its name picks the button.
    """
    output = Path(output)
    if output.suffix.lower() != ".xlam":
        raise ValueError(f"output must be an .xlam file, got {str(output)!r}")
    if output.name not in ADDIN_BY_FILE:
        raise ValueError(f"output must be named {' or '.join(ADDIN_BY_FILE)} (its name is the "
                         f"Python module the add-in imports), got {output.name!r}")
    data = build_bytes(template, output.name)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(output)
    return output


def build_all(folder: Path | str = DEFAULT_OUTPUT.parent, template: Path | None = None) -> list[Path]:
    """Write every add-in of :data:`ADDINS` into ``folder``; returns their paths."""
    return [build_xlam(Path(folder) / a.file, template) for a in ADDINS]


def is_up_to_date(path: Path | str = DEFAULT_OUTPUT, template: Path | None = None) -> bool:
    """Whether ``path`` holds exactly what a build from ``template`` gives (member by member)."""
    import io

    path = Path(path)
    if not path.is_file() or path.name not in ADDIN_BY_FILE:
        return False
    fresh = zipfile.ZipFile(io.BytesIO(build_bytes(template, path.name)))
    with zipfile.ZipFile(path) as current:
        if current.namelist() != fresh.namelist():
            return False
        return all(current.read(n) == fresh.read(n) for n in fresh.namelist())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m maillon.addin.excel_addin.build",
        description="Build the Maillon add-ins (" + ", ".join(a.file for a in ADDINS)
                    + ") from xlwings' ribbon add-in template.")
    parser.add_argument("--folder", default=str(DEFAULT_OUTPUT.parent),
                        help="where to write the add-ins (default: %(default)s)")
    parser.add_argument("--output", "-o",
                        help="build (or check) this one add-in only (named like one of them)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a file differs from a fresh build")
    args = parser.parse_args(argv)
    paths = [Path(args.output)] if args.output else [Path(args.folder) / a.file for a in ADDINS]
    if args.check:
        stale = [p for p in paths if not is_up_to_date(p)]
        for p in paths:
            if p not in stale:
                print(f"{p} is up to date.")
        for p in stale:
            print(f"{p} is stale: run python -m maillon.addin.excel_addin.build", file=sys.stderr)
        return 1 if stale else 0
    try:
        for p in paths:
            print(f"Wrote {build_xlam(p)}")
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

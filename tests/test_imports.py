"""What each package pulls in when imported on its own, in a fresh interpreter.

The layering of ``DESIGN.md`` as a user of the code meets it: the renderer
needs neither scikit-learn nor scipy; ``workbook_templates`` never imports
``maillon.addin`` (so there is no cycle between them); ``ooxml`` knows the
package format and nothing of Maillon; the command line and the file mode
start without pandas, which they import only once the read has started.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def loaded_after(module: str) -> set[str]:
    """The top-level names and ``maillon.*`` modules in ``sys.modules`` after importing ``module``."""
    code = (f"import sys, json, importlib; importlib.import_module({module!r}); "
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return set(json.loads(proc.stdout))


def _top(mods: set[str]) -> set[str]:
    return {m.split(".")[0] for m in mods}


@pytest.mark.parametrize("module", ["maillon.addin.render", "maillon.addin.render.specs",
                                    "maillon.addin.render.layout"])
def test_the_renderer_imports_no_scikit_learn_nor_scipy(module):
    mods = loaded_after(module)
    assert not _top(mods) & {"sklearn", "scipy", "xlwings", "python_calamine"}
    assert not {m for m in mods if m.startswith(("maillon.addin.filemode", "maillon.addin.live",
                                                 "maillon.addin.ooxml"))}


@pytest.mark.parametrize("module", ["maillon.workbook_templates", "maillon.workbook_templates.build",
                                    "maillon.workbook_templates.user_sheets",
                                    "maillon.workbook_templates.readme_text",
                                    "maillon.workbook_templates.demo_portfolio",
                                    "maillon.workbook_templates.defaults"])
def test_workbook_templates_import_nothing_of_the_addin(module):
    assert not {m for m in loaded_after(module) if m.startswith("maillon.addin")}


def test_the_package_layer_knows_nothing_of_maillon():
    mods = loaded_after("maillon.addin.ooxml.graft")
    maillon_mods = {m for m in mods if m.startswith("maillon")}
    assert maillon_mods <= {"maillon", "maillon.addin", "maillon.addin.ooxml"} | {
        m for m in maillon_mods if m.startswith("maillon.addin.ooxml.")}
    assert not _top(mods) & {"pandas", "numpy", "sklearn", "xlsxwriter", "xlwings"}


@pytest.mark.parametrize("module", ["maillon.addin.cli", "maillon.addin.filemode"])
def test_the_command_line_starts_without_pandas(module):
    assert not _top(loaded_after(module)) & {"pandas", "numpy", "sklearn"}


def test_the_engine_imports_no_excel_library():
    mods = loaded_after("maillon.engine.pipeline")
    assert not _top(mods) & {"xlsxwriter", "xlwings", "python_calamine", "openpyxl"}
    assert not {m for m in mods if m.startswith(("maillon.addin", "maillon.workbook_templates"))}


@pytest.mark.parametrize("module", ["maillon.addin.live.ribbon", "maillon.addin.live.dialogs"])
def test_live_mode_imports_no_file_mode(module):
    mods = loaded_after(module)
    assert not {m for m in mods if m.startswith(("maillon.addin.filemode", "maillon.addin.ooxml"))}
    assert "python_calamine" not in _top(mods)

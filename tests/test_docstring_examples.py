"""Every docstring example of Maillon runs and passes.

Each module of the installed package (``maillon.engine``, ``maillon.addin`` and
its folders, ``maillon.workbook_templates``) is imported by its real name and
its examples run with :mod:`doctest`. (pytest's ``--doctest-modules`` would
import ``engine/segment.py`` as ``engine.segment``, a second copy of the module
beside ``maillon.engine.segment``, because the folders install under another
name.)
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest


#: the installed packages (an editable install maps each to its own folder)
PACKAGES = ("maillon", "maillon.engine", "maillon.addin", "maillon.workbook_templates")


def _modules() -> list[str]:
    names = set()
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.add(package)
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            names.add(info.name)
    return sorted(names)


MODULES = _modules()


def test_every_folder_is_walked():
    for package in ("maillon.engine", "maillon.addin.render", "maillon.addin.ooxml",
                    "maillon.addin.filemode", "maillon.addin.live", "maillon.addin.excel_addin",
                    "maillon.workbook_templates"):
        assert any(m.startswith(package + ".") for m in MODULES), package


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples fail in {name}"

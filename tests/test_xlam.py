"""The built add-in: ribbon, macro, module, reproducibility (read with oletools)."""
from __future__ import annotations

import importlib
import importlib.util
import re
import zipfile
import xml.etree.ElementTree as ET

import pytest

from maillon.addin.excel_addin import build as B

oletools = pytest.importorskip("oletools.olevba")

NS = {"ui": "http://schemas.microsoft.com/office/2006/01/customui"}


@pytest.fixture(scope="module")
def xlam():
    assert B.DEFAULT_OUTPUT.is_file(), "run: python -m maillon.addin.excel_addin.build"
    return B.DEFAULT_OUTPUT


@pytest.fixture(scope="module")
def vba(xlam):
    parser = oletools.VBA_Parser(str(xlam))
    try:
        return {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _ribbon(xlam):
    with zipfile.ZipFile(xlam) as z:
        rels = z.read("_rels/.rels").decode()
        assert 'Target="customUI/customUI.xml"' in rels  # Excel finds the ribbon part
        return ET.fromstring(z.read(B.CUSTOMUI_PART))


def test_ribbon_has_a_maillon_tab_with_one_large_button(xlam):
    root = _ribbon(xlam)
    tabs = root.findall(".//ui:tab", NS)
    assert [t.get("label") for t in tabs] == ["Maillon"]
    buttons = root.findall(".//ui:button", NS)
    assert len(buttons) == 1
    button = buttons[0]
    assert button.get("label") == "Recompute segments"
    assert button.get("size") == "large"
    assert button.get("imageMso")


def test_button_macro_exists_and_imports_the_module_named_like_the_addin(xlam, vba):
    action = _ribbon(xlam).find(".//ui:button", NS).get("onAction")
    module, _, proc = action.partition(".")
    source = vba[f"{module}.bas"]
    assert re.search(rf"^\s*(Public\s+)?Sub\s+{proc}\s*\(control As IRibbonControl\)", source,
                     re.M | re.I)
    body = source.split(proc, 1)[1]
    # the module name comes from the workbook's file name: maillon.xlam -> maillon
    assert "Left(ThisWorkbook.Name, (InStrRev(ThisWorkbook.Name" in body
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in body
    name = B.module_name(xlam.name)
    assert name == "maillon"
    assert importlib.util.find_spec(name) is not None
    assert callable(importlib.import_module(name).main)


def test_vba_is_xlwings_template_for_the_installed_xlwings(vba):
    import xlwings

    source = vba["xlwings.bas"]
    assert f'XLWINGS_VERSION As String = "{xlwings.__version__}"' in source
    assert f'PROJECT_NAME As String = "{B.VBA_PROJECT_NAME}"' in source


def test_vba_project_is_the_templates_byte_for_byte(xlam):
    with zipfile.ZipFile(xlam) as built, zipfile.ZipFile(B.template_path()) as template:
        assert built.namelist() == template.namelist()
        for name in template.namelist():
            if name != B.CUSTOMUI_PART:
                assert built.read(name) == template.read(name), name


def test_rebuild_gives_the_same_file(xlam, tmp_path):
    again = B.build_xlam(tmp_path / "maillon.xlam")
    again2 = B.build_xlam(tmp_path / "other" / "maillon.xlam")
    assert again.read_bytes() == again2.read_bytes()  # deterministic
    assert B.is_up_to_date(xlam)  # the committed file is what the script builds
    assert B.main(["--check", "--output", str(xlam)]) == 0


def test_output_must_be_an_xlam(tmp_path):
    with pytest.raises(ValueError, match=".xlam"):
        B.build_xlam(tmp_path / "maillon.zip")


# --- the three add-ins of the Maillon tab ------------------------------------------------------
@pytest.mark.parametrize("addin", B.ADDINS, ids=lambda a: a.file)
def test_each_addin_is_committed_up_to_date_and_is_the_template_but_its_ribbon(addin):
    path = B.DEFAULT_OUTPUT.parent / addin.file
    assert B.is_up_to_date(path), "run: python -m maillon.addin.excel_addin.build"
    with zipfile.ZipFile(path) as built, zipfile.ZipFile(B.template_path()) as template:
        assert built.namelist() == template.namelist()
        assert all(built.read(n) == template.read(n) for n in template.namelist()
                   if n != B.CUSTOMUI_PART)


@pytest.mark.parametrize("addin", B.ADDINS, ids=lambda a: a.file)
def test_each_button_runs_the_main_of_the_module_named_like_its_addin(addin):
    root = _ribbon(B.DEFAULT_OUTPUT.parent / addin.file)
    (button,) = root.findall(".//ui:button", NS)
    assert button.get("label") == addin.label and button.get("onAction") == B.RIBBON_MACRO
    # RunMain: "import " & mymodule & ";" & mymodule & ".main()", mymodule = the file's stem
    module = importlib.import_module(B.module_name(addin.file))
    assert callable(module.main)
    assert module.__name__ == addin.module


def test_the_three_ribbons_share_one_tab_and_one_group():
    """[MS-CUSTOMUI] 2.3.9: documents qualifying ids in the same namespace share containers."""
    seen = set()
    for addin in B.ADDINS:
        with zipfile.ZipFile(B.DEFAULT_OUTPUT.parent / addin.file) as z:
            text = z.read(B.CUSTOMUI_PART).decode()
        root = ET.fromstring(text)
        (tab,) = root.findall(".//ui:tab", NS)
        (group,) = tab.findall("ui:group", NS)
        assert tab.get("id") is None and group.get("id") is None  # qualified ids only
        assert 'xmlns:maillon="urn:maillon:ribbon"' in text  # the one namespace of all three
        seen.add((tab.get("idQ"), tab.get("label"), group.get("idQ"), group.get("label")))
    assert seen == {("maillon:maillonTab", "Maillon", "maillon:maillonGroup", "Team workbook")}
    ids = [_ribbon(B.DEFAULT_OUTPUT.parent / a.file).find(".//ui:button", NS).get("id")
           for a in B.ADDINS]
    assert len(set(ids)) == 3


def test_top_level_modules_are_installed_by_pyproject():
    import tomllib

    project = tomllib.loads((B.DEFAULT_OUTPUT.parents[2] / "pyproject.toml").read_text())
    modules = project["tool"]["setuptools"]["py-modules"]
    assert sorted(modules) == sorted(a.module for a in B.ADDINS if a.module != "maillon")


def test_check_names_a_stale_addin(tmp_path, capsys):
    B.build_all(tmp_path)
    assert B.main(["--check", "--folder", str(tmp_path)]) == 0
    stale = tmp_path / "maillon_import.xlam"
    stale.write_bytes((tmp_path / "maillon_merge.xlam").read_bytes())  # the wrong ribbon
    assert B.main(["--check", "--folder", str(tmp_path)]) == 1
    assert "maillon_import.xlam is stale" in capsys.readouterr().err


def test_an_addin_must_be_named_like_its_module(tmp_path):
    with pytest.raises(ValueError, match="maillon_merge.xlam"):
        B.build_xlam(tmp_path / "merge.xlam")

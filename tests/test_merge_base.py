"""The merge base that every recompute records (engine/base.py, addin/filemode/base_store.py)."""
from __future__ import annotations

import base64
import datetime as dt
import shutil
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest

from maillon.addin.filemode.base_store import read_base, read_identity
from maillon.addin.filemode.recompute import recompute_file
from maillon.addin.ooxml.package import Package
from maillon.addin.ooxml.safe_io import WorkbookError
from maillon.engine.base import Base, BaseError, decode, encode

from workbooks import build_workbook, member_bytes


def test_encode_decode_keeps_values_and_types():
    frame = pd.DataFrame({
        "Account ID": ["A1", "A2", "A3"],
        "Employees": [10.0, np.nan, 3.0],
        "Last contact": pd.to_datetime(["2026-03-02", None, "2026-01-05"]),
        "Mixed": ["x", 12.0, dt.datetime(2026, 2, 1, 9, 30)],
        "Blank text": ["  ", None, "kept"],
        "Flag": [True, False, True],
    })
    back = decode(encode(Base("wb", "run", "2026-11-30 09:00:00", "me", {"t": frame})))
    t = back.tables["t"]
    assert t.columns.tolist() == frame.columns.tolist()
    assert t["Account ID"].tolist() == ["A1", "A2", "A3"]
    assert t["Employees"].iloc[0] == 10.0 and np.isnan(t["Employees"].iloc[1])
    assert t["Last contact"].iloc[0] == pd.Timestamp("2026-03-02")
    assert pd.isna(t["Last contact"].iloc[1])
    assert t["Mixed"].tolist() == ["x", 12.0, dt.datetime(2026, 2, 1, 9, 30)]
    assert pd.isna(t["Blank text"].iloc[0]) and t["Blank text"].iloc[2] == "kept"
    assert t["Flag"].tolist() == [True, False, True]


@pytest.mark.parametrize("data", [b"", b"not deflated", zlib.compress(b"[1, 2]"),
                                  zlib.compress(b"\x05\x00\x00\x00\x00\x00\x00\x00{}")])
def test_damaged_base_is_an_error_not_a_crash(data):
    with pytest.raises(BaseError):
        decode(data)


@pytest.fixture
def recomputed(tmp_path):
    src = build_workbook(tmp_path / "src.xlsx", 120)
    team = tmp_path / "team.xlsx"
    recompute_file(src, team)
    return team


def test_each_recompute_records_the_base_and_keeps_the_workbook_identity(recomputed):
    with Package(recomputed) as pkg:
        first = read_identity(pkg)
        base = read_base(pkg)
    assert base.tables["tblAccounts"].shape[0] == 120
    assert set(base.tables) >= {"tblSettings", "tblExpectations", "tblAccounts", "tblFeedback",
                                "tblPlaybook", "tblTargets", "tblSegments", "tblPlan"}
    assert base.tables["tblTargets"].columns.tolist()[:3] == \
        ["Account ID", "Priority override", "Override reason"]
    before = member_bytes(recomputed)
    recompute_file(recomputed)
    with Package(recomputed) as pkg:
        second = read_identity(pkg)
    after = member_bytes(recomputed)
    assert second["workbook"] == first["workbook"] and second["run"] != first["run"]
    # one item, replaced in place; nothing else about custom XML grows
    custom = sorted(n for n in after if n.lower().startswith("customxml/"))
    assert custom == sorted(n for n in before if n.lower().startswith("customxml/"))
    assert len([n for n in custom if "itemProps" not in n and n.endswith(".xml")]) == 1


def test_a_user_custom_xml_item_is_kept(recomputed, tmp_path):
    user = tmp_path / "user.xlsx"
    with zipfile.ZipFile(recomputed) as src, zipfile.ZipFile(user, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "customXml/item1.xml":
                out.writestr("customXml/item1.xml", b'<?xml version="1.0"?><mine xmlns="urn:x">'
                                                    b"keep me</mine>")
                out.writestr("customXml/item9.xml", data)
                continue
            if info.filename == "customXml/_rels/item1.xml.rels":
                out.writestr("customXml/_rels/item9.xml.rels", data)
            out.writestr(info, data)
    recompute_file(user)
    with zipfile.ZipFile(user) as z:
        assert z.read("customXml/item1.xml").endswith(b"keep me</mine>")
        assert b"urn:maillon:merge-base:1" in z.read("customXml/item9.xml")[:300]


def test_a_damaged_base_is_named(recomputed, tmp_path):
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(recomputed) as src, zipfile.ZipFile(bad, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "customXml/item1.xml":
                head = data[:data.index(b">", data.index(b"<maillonBase")) + 1]
                data = head + base64.b64encode(b"garbage") + b"</maillonBase>"
            out.writestr(info, data)
    with Package(bad) as pkg:
        assert read_identity(pkg)["workbook"]
        with pytest.raises(WorkbookError, match="bad.xlsx: the merge base"):
            read_base(pkg)


def test_base_survives_libreoffice(recomputed, tmp_path):
    from realclients import libreoffice_opens

    ok, why = libreoffice_opens(recomputed, "xlsx", outdir=tmp_path / "lo")
    if not ok:
        pytest.skip(why)
    lo = tmp_path / "lo" / "team.xlsx"
    with Package(recomputed) as a, Package(lo) as b:
        assert read_identity(a) == read_identity(b)
        assert read_base(b).tables["tblAccounts"].shape == (120, read_base(a).tables[
            "tblAccounts"].shape[1])
    shutil.copyfile(lo, tmp_path / "again.xlsx")
    recompute_file(tmp_path / "again.xlsx")  # the item LibreOffice relates from the root
    with Package(tmp_path / "again.xlsx") as pkg, Package(recomputed) as first:
        assert read_identity(pkg)["workbook"] == read_identity(first)["workbook"]

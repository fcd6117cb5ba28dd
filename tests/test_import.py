"""``maillon import``: exports made as the real ones are, read back from the workbook.

Fixtures are built here from code: a Windows-1252 ``;`` CSV with NBSP
thousands and day-first dates (Excel on a French PC), a UTF-8-with-BOM
HubSpot export in French, a Dynamics 365 XLSX with its hidden ``(Do Not
Modify)`` columns, a SIRENE extract; duplicates are planted with known answers.
"""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from maillon.addin.cli import main
from maillon.engine.importing.dedupe import find_links
from maillon.engine.importing.records import add_keys
from tests.workbooks import member_bytes

import pandas as pd


def _book(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def _table_rows(path: Path, sheet: str, table: str) -> list[dict]:
    wb = _book(path)
    ws = wb[sheet]
    ref = ws.tables[table].ref
    rows = list(ws[ref])
    headers = [c.value for c in rows[0]]
    return [dict(zip(headers, (c.value for c in r))) for r in rows[1:]
            if any(c.value is not None for c in r)]


def _date(v) -> dt.date:
    """A date cell (a serial where the template's blank row has no date format)."""
    from openpyxl.utils.datetime import from_excel

    return (v if isinstance(v, dt.datetime) else from_excel(v)).date()


@pytest.fixture
def team(tmp_path) -> Path:
    path = tmp_path / "team.xlsx"
    assert main(["new", str(path)]) == 0
    return path


def salesforce_csv(path: Path) -> Path:
    """Excel's 'CSV (séparateur: point-virgule)' on a French PC: cp1252, ';', NBSP, day first."""
    lines = [
        "Rapport : Comptes - tous;;;;;;;",
        ";;;;;;;",
        "Account ID;Account Name;Type;Billing City;Billing Zip/Postal Code;Employees;"
        "Annual Revenue;Last Activity",
        "001A0000006Vm9r;Dupont SARL;Customer - Direct;Lyon;69003;1\u00a0200;12,5 M€;03/04/2024",
        "001A0000006Vm9s;Société Générale de Fonderie;Prospect;Saint-Étienne;42000;350;"
        "1\u00a0234\u00a0567,50;25/12/2025",
        "001A0000006Vm9t;Boulangerie Martin;Customer;Lyon;69002;12;850 k€;01/12/2026",
        "001A0000006Vm9u;Boulangerie Martin;Prospect;Lille;59000;8;;",
        "001A0000006Vm9v;Ateliers Réunis;Prospect;Nantes;44000;45;;",
        "Total;;;;;;;",
        "Confidentiel - Généré par Salesforce;;;;;;;",
    ]
    path.write_bytes("\r\n".join(lines).encode("cp1252") + b"\r\n")
    return path


def hubspot_csv(path: Path) -> Path:
    """HubSpot's French export: UTF-8 with a BOM, ',' and quoted fields."""
    lines = [
        "ID de fiche d'informations,Nom de l'entreprise,Propriétaire de l'entreprise,Ville,"
        "Nombre d'employés,Chiffre d'affaires annuel,Nom de domaine de l'entreprise,"
        "Phase du cycle de vie",
        '9001,"DUPONT S.A.R.L.",Claire Morel,Lyon,,"12500000",dupont-lyon.fr,Client',
        '9002,"Ateliers Reunis SAS",Paul Roy,Nantes,45,,ateliers-reunis.fr,Lead',
        '9003,"Dupond",Paul Roy,Lyon,,,,Lead',
        '9004,"Transports Girard & Fils",Claire Morel,Rennes,120,"3 400 000",girard.fr,Lead',
        '9005,"Transports Girard et Fils",Claire Morel,Rennes,,,girard.fr,Lead',
    ]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")
    return path


def dynamics_xlsx(path: Path) -> Path:
    """A Dynamics 365 'Export to Excel': hidden bookkeeping columns A:C and a hidden sheet."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Comptes actifs")
    headers = ["(Do Not Modify) Account", "(Do Not Modify) Row Checksum",
               "(Do Not Modify) Modified On", "Nom du compte", "Adresse 1 : Ville",
               "Adresse 1 : Code postal", "Propriétaire", "Numéro SIRET"]
    ws.write_row(0, 0, headers)
    rows = [["7a1c0e52-5d1f-ee11-9966-000d3a4b1234", "abc==", "2026-11-02T10:00:00",
             "Métallerie Bernard", "Grenoble", "38000", "Julie Petit", "73282932000074"],
            ["8b2d1f63-6e2f-ee11-9966-000d3a4b5678", "def==", "2026-11-02T10:00:00",
             "Imprimerie Lefèvre", "Tours", "37000", "Julie Petit", "12345678901234"]]
    for i, r in enumerate(rows, start=1):
        for j, v in enumerate(r):
            ws.write_string(i, j, v)
    ws.set_column(0, 2, None, None, {"hidden": True})
    hidden = wb.add_worksheet("hiddenSheet")
    hidden.write_string(0, 0, "account:xyz")
    hidden.hide()
    wb.close()
    return path


def sirene_csv(path: Path) -> Path:
    lines = ["siren,siret,denominationUniteLegale,codePostalEtablissement,"
             "libelleCommuneEtablissement,trancheEffectifsUniteLegale,activitePrincipaleUniteLegale",
             "732829320,73282932000074,BERNARD METALLERIE,38000,GRENOBLE,12,25.11Z",
             "356000000,35600000049837,LA POSTE,75015,PARIS 15,53,53.10Z",
             "552081317,55208131766522,ELECTRICITE DE FRANCE,75008,PARIS 8,53,35.11Z"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_french_csv_read_as_a_user_means_it(team, tmp_path, capsys):
    csv = salesforce_csv(tmp_path / "comptes.csv")
    assert main(["import", str(team), str(csv), "-q"]) == 0
    out = capsys.readouterr().out
    assert "Windows-1252" in out and "semicolon" in out and "title rows: 1 skipped" in out
    assert "footer rows: 2 skipped" in out
    rows = {r["Account name"]: r for r in _table_rows(team, "Accounts", "tblAccounts")}
    assert "Total" not in rows
    dupont = rows["Dupont SARL"]
    assert dupont["Employees"] == 1200
    assert dupont["Annual revenue"] == 12_500_000          # the company's turnover, kept apart
    assert dupont["Revenue 12m"] is None                    # never our sales
    assert _date(dupont["Last contact"]) == dt.date(2024, 4, 3)   # 3 April: day first
    assert dupont["Status"] == "Customer"
    assert dupont["CRM ID (salesforce)"] == "001A0000006Vm9rIAC"   # 18-character case-safe form
    assert dupont["Postal code"] == "69003"
    sgf = rows["Société Générale de Fonderie"]
    assert sgf["Annual revenue"] == pytest.approx(1234567.5) and sgf["City"] == "Saint-Étienne"
    # same name, different cities: both listed, nothing merged
    martins = [r for r in _table_rows(team, "Accounts", "tblAccounts")
               if r["Account name"] == "Boulangerie Martin"]
    assert sorted(r["City"] for r in martins) == ["Lille", "Lyon"]
    ids = [r["Account ID"] for r in _table_rows(team, "Accounts", "tblAccounts")]
    assert len(ids) == len(set(ids)) == 5


def test_second_source_matches_fills_blanks_and_holds_doubts(team, tmp_path, capsys):
    assert main(["import", str(team), str(salesforce_csv(tmp_path / "sf.csv")), "-q"]) == 0
    before = {r["Account ID"]: r for r in _table_rows(team, "Accounts", "tblAccounts")}
    hub = hubspot_csv(tmp_path / "hubspot.csv")
    assert main(["import", str(team), str(hub), "-q", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "Dry run" in dry and "rows read             5" in dry
    assert _table_rows(team, "Accounts", "tblAccounts") == list(before.values())  # nothing written
    assert main(["import", str(team), str(hub), "-q"]) == 0
    after = _table_rows(team, "Accounts", "tblAccounts")
    review = _table_rows(team, "Import Review", "tblImportReview")
    held = {r["Incoming: name"] for r in review if r["Kind"] == "Probable duplicate"}
    # legal-form variant and typo of an account already listed: held, not merged
    assert {"DUPONT S.A.R.L.", "Dupond"} <= held
    names = [r["Account name"] for r in after]
    assert "DUPONT S.A.R.L." not in names and "Dupond" not in names
    # same web domain in the file: one company, one row
    assert names.count("Transports Girard & Fils") == 1 and "Transports Girard et Fils" not in names
    # "Ateliers Reunis SAS" is "Ateliers Réunis": held for review, the listed row untouched
    ateliers = next(r for r in after if r["Account name"] == "Ateliers Réunis")
    assert ateliers["Sales owner"] is None
    # decide: Dupond is Different, DUPONT S.A.R.L. is Same; the next import applies it
    wb = _book(team)  # decisions typed with openpyxl into a copy, as a user would in Excel
    ws = wb["Import Review"]
    header = [c.value for c in ws[4]]
    for row in ws.iter_rows(min_row=5):
        name = row[header.index("Incoming: name")].value
        if name == "Dupond":
            row[header.index("Decision")].value = "Different"
        elif name == "DUPONT S.A.R.L.":
            row[header.index("Decision")].value = "Same"
    decided = tmp_path / "decided.xlsx"
    wb.save(decided)
    sirene = sirene_csv(tmp_path / "sirene.csv")
    assert main(["import", str(decided), str(sirene), "-q"]) == 0
    final = {r["Account name"]: r for r in _table_rows(decided, "Accounts", "tblAccounts")}
    assert "Dupond" in final                                 # Different: a new account
    assert final["Dupont SARL"]["Sales owner"] == "Claire Morel"   # Same: a blank filled
    assert final["Dupont SARL"]["Website"] == "dupont-lyon.fr"
    assert final["LA POSTE"]["SIREN"] == "356000000"        # La Poste's SIRET accepted
    assert final["BERNARD METALLERIE"]["Employees"] == 20   # SIRENE band 12: 20-49
    ids = [r["Account ID"] for r in final.values()]
    assert len(ids) == len(set(ids))
    left = _table_rows(decided, "Import Review", "tblImportReview")
    assert not any(r["Incoming: name"] in ("Dupond", "DUPONT S.A.R.L.") for r in left
                   if r["Kind"] == "Probable duplicate")
    # each CRM's IDs in their own column: never compared with another CRM's
    assert final["Dupont SARL"]["CRM ID (salesforce)"] == "001A0000006Vm9rIAC"
    assert final["Dupont SARL"]["CRM ID (hubspot)"] == "9001"
    # what differs after "Same" is listed, not overwritten
    assert final["Dupont SARL"]["Status"] == "Customer"


def test_dynamics_hidden_columns_and_invalid_siret(team, tmp_path, capsys):
    xlsx = dynamics_xlsx(tmp_path / "dynamics.xlsx")
    assert main(["import", str(team), str(xlsx), "-q"]) == 1   # "Propriétaire": confirm
    out = capsys.readouterr().out
    assert "'Propriétaire' -> Sales owner" in out
    assert not any(r["Account name"] for r in _table_rows(team, "Accounts", "tblAccounts"))
    mapping = _table_rows(team, "Import Mapping", "tblImportMapping")
    assert {(m["Column in file"], m["Maps to"]) for m in mapping} >= {
        ("(Do Not Modify) Account", "CRM ID"), ("(Do Not Modify) Row Checksum", "Skip"),
        ("Propriétaire", "Sales owner")}
    # the user confirms on the sheet; the next import asks nothing
    wb = _book(team)
    ws = wb["Import Mapping"]
    for row in ws.iter_rows(min_row=5):
        if row[1].value == "Propriétaire":
            row[4].value = "Yes"
    wb.save(team)
    assert main(["import", str(team), str(xlsx), "-q"]) == 0
    out = capsys.readouterr().out
    assert "12345678901234" in out and "not a valid SIRET" in out   # flagged
    rows = {r["Account name"]: r for r in _table_rows(team, "Accounts", "tblAccounts")}
    assert rows["Métallerie Bernard"]["CRM ID (dynamics)"] == \
        "7a1c0e52-5d1f-ee11-9966-000d3a4b1234"
    assert rows["Métallerie Bernard"]["Sales owner"] == "Julie Petit"
    assert "(Do Not Modify) Row Checksum" not in rows["Métallerie Bernard"]
    # the same SIREN from SIRENE, with another name: matched exactly, its blanks filled
    assert main(["import", str(team), str(sirene_csv(tmp_path / "s.csv")), "-q"]) == 0
    rows = {r["Account name"]: r for r in _table_rows(team, "Accounts", "tblAccounts")}
    assert "BERNARD METALLERIE" not in rows
    assert rows["Métallerie Bernard"]["NAF code"] == "25.11Z"


def test_bad_input_changes_nothing(team, tmp_path, capsys):
    before = member_bytes(team)
    bad = tmp_path / "bad.csv"
    bad.write_text("Account Name;Employees\nDupont;beaucoup\n", encoding="utf-8")
    assert main(["import", str(team), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column 'Employees'" in err and "Traceback" not in err
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert main(["import", str(team), str(binary)]) == 1
    assert "not a text file" in capsys.readouterr().err
    nameless = tmp_path / "nameless.csv"
    nameless.write_text("Ville;Effectif\nLyon;3\n", encoding="utf-8")
    assert main(["import", str(team), str(nameless)]) == 1
    assert "company name" in capsys.readouterr().err
    assert main(["import", str(team), str(tmp_path / "missing.csv")]) == 1
    assert member_bytes(team) == before


def test_only_the_accounts_sheet_and_the_import_sheets_change(team, tmp_path):
    from tests.workbooks import parts_of_sheets

    before = member_bytes(team)
    assert main(["import", str(team), str(salesforce_csv(tmp_path / "sf.csv")), "-q"]) == 0
    after = member_bytes(team)
    touched = parts_of_sheets(team, ["Accounts", "Import Review", "Import Mapping"])
    changed = {p for p in before if before[p] != after.get(p)}
    allowed = touched | {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                         "xl/styles.xml", "docProps/app.xml", "xl/calcChain.xml"}
    assert changed <= allowed, changed - allowed
    assert main(["recompute", str(team), "-q"]) == 0   # the workbook recomputes as it is


# ------------------------------------------------------------------ precision / recall
PLANTED = [  # (listed, incoming, same company?)
    (("Dupont SARL", "Lyon"), ("DUPONT S.A.R.L.", "Lyon"), True),
    (("Société Générale de Fonderie", "Saint-Étienne"), ("Societe Generale de Fonderie SA",
                                                          "St-Etienne"), True),
    (("Transports Girard & Fils", "Rennes"), ("Transports Girard et Fils", "Rennes"), True),
    (("Müller GmbH", "Strasbourg"), ("Muller", "Strasbourg"), True),
    (("Imprimerie Lefèvre", "Tours"), ("Imprimerie Lefevre", ""), True),
    (("Boulangerie Martin", "Lyon"), ("Boulangerie Martin", "Lille"), False),
    (("Métallerie Bernard", "Grenoble"), ("Menuiserie Bernard", "Grenoble"), False),
    (("Cabinet Durand", "Nice"), ("Cabinet Dubois", "Nice"), False),
    (("Garage Leroy", "Caen"), ("Garage Leroy", "Brest"), False),
    (("Dupont Frères", "Lyon"), ("Dupuis Frères", "Lyon"), False),
]


def test_planted_duplicates_precision_recall():
    listed = add_keys(pd.DataFrame([{"Account name": a[0], "City": a[1]} for a, _, _ in PLANTED]))
    incoming = add_keys(pd.DataFrame([{"Account name": b[0], "City": b[1] or None}
                                      for _, b, _ in PLANTED]))
    n = len(PLANTED)
    found = {(link.a, link.b - n) for link in find_links(listed, incoming)
             if link.b >= n and link.a < n}
    truth = {(i, i) for i, (_, _, same) in enumerate(PLANTED) if same}
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth)
    print(f"planted duplicates: precision {precision:.2f}, recall {recall:.2f}")
    assert recall == 1.0 and precision >= 0.8
    # same SIREN, different names: exact; two valid different SIRENs: never proposed
    a = add_keys(pd.DataFrame([{"Account name": "Métallerie Bernard", "SIREN": "732829320"}]))
    b = add_keys(pd.DataFrame([{"Account name": "BERNARD METALLERIE SAS", "SIREN": "732 829 320"},
                               {"Account name": "Métallerie Bernard", "SIREN": "552081317"}]))
    links = find_links(a, b)
    assert [(link.b, link.kind) for link in links] == [(1, "exact")]


def test_no_planted_non_duplicate_is_merged(team, tmp_path):
    listed = tmp_path / "listed.csv"
    listed.write_text("Account Name;Billing City\n" + "\n".join(f"{a[0]};{a[1]}"
                                                               for a, _, _ in PLANTED),
                      encoding="utf-8")
    incoming = tmp_path / "incoming.csv"
    incoming.write_text("Account Name;Billing City\n" + "\n".join(f"{b[0]};{b[1]}"
                                                                 for _, b, _ in PLANTED),
                        encoding="utf-8")
    assert main(["import", str(team), str(listed), "-q", "--source", "a"]) == 0
    assert main(["import", str(team), str(incoming), "-q", "--source", "b"]) == 0
    rows = _table_rows(team, "Accounts", "tblAccounts")
    names = [(r["Account name"], r["City"]) for r in rows]
    for (la, lb), (ia, ib), same in PLANTED:
        assert (la, lb) in names                       # nothing listed was replaced
        if not same:   # a different company is either added or held, never merged away
            held = {(r["Incoming: name"], r["Incoming: city"])
                    for r in _table_rows(team, "Import Review", "tblImportReview")}
            assert (ia, ib) in names or (ia, ib) in held


def test_meetings_into_feedback(team, tmp_path):
    assert main(["import", str(team), str(salesforce_csv(tmp_path / "sf.csv")), "-q"]) == 0
    ids = {r["Account name"]: r["Account ID"] for r in _table_rows(team, "Accounts", "tblAccounts")}
    meetings = tmp_path / "activites.csv"
    meetings.write_bytes("\r\n".join([
        "Compte;Date de l'activité;Attribué à;Intention d'achat;Relation;Commentaires",
        "001A0000006Vm9r;02/12/2026;Claire Morel;Forte;4;Veut un devis",
        "Ateliers Réunis SARL;15/11/2026;Paul Roy;moyen;Très important;",
    ]).encode("cp1252"))
    # "Compte" names the account by its CRM ID or its name: mapped as Account name
    assert main(["import", str(team), str(meetings), "--into", "feedback", "-q", "--yes"]) == 0
    rows = _table_rows(team, "Field Feedback", "tblFeedback")
    got = {r["Account ID"]: r for r in rows if r["Account ID"]}
    assert set(got) == {ids["Dupont SARL"], ids["Ateliers Réunis"]}
    dupont = got[ids["Dupont SARL"]]
    assert (dupont["Sales rep"], dupont["Buying intent"], dupont["Relationship"]) == \
        ("Claire Morel", "High", 4)
    assert _date(dupont["Date"]) == dt.date(2026, 12, 2) and dupont["Note"] == "Veut un devis"
    assert got[ids["Ateliers Réunis"]]["Relationship"] == 5


def test_survey_answers_fill_need_columns(team, tmp_path, capsys):
    assert main(["import", str(team), str(salesforce_csv(tmp_path / "sf.csv")), "-q"]) == 0
    exp = [r["Expectation"] for r in _table_rows(team, "Expectations", "tblExpectations")]
    survey = tmp_path / "enquete.csv"
    survey.write_text("\n".join([
        f"Horodatage,Entreprise,Ville,Importance : {exp[0]},{exp[1]} ?",
        "2026-11-20 10:02,Dupont SARL,Lyon,Très important,2",
        "2026-11-20 11:15,Boulangerie Martin,Lille,Peu important,5 - Essentiel",
        "2026-11-21 09:00,Inconnue SA,Paris,3,3",
    ]) + "\n", encoding="utf-8-sig")
    assert main(["import", str(team), str(survey), "--into", "needs", "-q"]) == 0
    out = capsys.readouterr().out
    assert "'Inconnue SA' is no single account" in out
    rows = _table_rows(team, "Accounts", "tblAccounts")
    dupont = next(r for r in rows if r["Account name"] == "Dupont SARL")
    lille = next(r for r in rows if r["Account name"] == "Boulangerie Martin" and r["City"] == "Lille")
    lyon = next(r for r in rows if r["Account name"] == "Boulangerie Martin" and r["City"] == "Lyon")
    assert (dupont[f"Need: {exp[0]}"], dupont[f"Need: {exp[1]}"]) == (5, 2)
    assert (lille[f"Need: {exp[0]}"], lille[f"Need: {exp[1]}"]) == (2, 5)
    assert lyon[f"Need: {exp[0]}"] is None
    assert "Horodatage" not in rows[0] and len(rows) == 5
    # a second answer that differs is listed, not overwritten
    survey.write_text(f"Entreprise,Ville,{exp[0]}\nDupont SARL,Lyon,1\n", encoding="utf-8")
    assert main(["import", str(team), str(survey), "--into", "needs", "-q", "--source", "s2"]) == 0
    dupont = next(r for r in _table_rows(team, "Accounts", "tblAccounts")
                  if r["Account name"] == "Dupont SARL")
    assert dupont[f"Need: {exp[0]}"] == 5
    review = _table_rows(team, "Import Review", "tblImportReview")
    assert any(r["Kind"] == "Value differs" and r["Column"] == f"Need: {exp[0]}" for r in review)


def test_recompute_applies_the_decisions(team, tmp_path):
    assert main(["import", str(team), str(hubspot_csv(tmp_path / "h.csv")), "-q"]) == 0
    # within one file: "Dupond" is held against "DUPONT S.A.R.L." (a new account)
    wb = _book(team)
    ws = wb["Import Review"]
    header = [c.value for c in ws[4]]
    decided = None
    for row in ws.iter_rows(min_row=5):
        if row[header.index("Incoming: name")].value == "Dupond":
            row[header.index("Decision")].value = "Different"
            decided = row[header.index("Review ID")].value
    assert decided is not None
    wb.save(team)
    assert main(["recompute", str(team), "-q"]) == 0
    names = [r["Account name"] for r in _table_rows(team, "Accounts", "tblAccounts")]
    assert "Dupond" in names
    assert decided not in {r["Review ID"] for r in _table_rows(team, "Import Review",
                                                               "tblImportReview")}
    targets = {r["Account name"] for r in _table_rows(team, "Target List", "tblTargets")}
    assert "Dupond" in targets                       # recomputed with the decision applied


def test_an_imported_workbook_opens_in_real_spreadsheet_programs(team, tmp_path):
    from tests.realclients import SOFFICE, SSCONVERT, gnumeric_opens, libreoffice_opens

    if SOFFICE is None and SSCONVERT is None:
        pytest.skip("neither LibreOffice nor Gnumeric is installed (apt-get install "
                    "libreoffice-calc gnumeric)")
    assert main(["import", str(team), str(salesforce_csv(tmp_path / "sf.csv")), "-q"]) == 0
    assert main(["import", str(team), str(hubspot_csv(tmp_path / "h.csv")), "-q"]) == 0
    if SOFFICE is not None:
        ok, message = libreoffice_opens(team)
        assert ok, message
    if SSCONVERT is not None:
        ok, message = gnumeric_opens(team)
        assert ok, message


def test_xlsx_numbers_are_their_values(team, tmp_path):
    path = tmp_path / "salon.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Visiteurs")
    ws.write_row(0, 0, ["Raison sociale", "Code postal", "Chiffre d'affaires", "Dernier contact"])
    ws.write_row(1, 0, ["Imprimerie Lefèvre", 1000, 1234.567])
    ws.write_datetime(1, 3, dt.datetime(2026, 3, 4), wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write_row(2, 0, ["Garage Leroy", "14000", "1 234,5"])
    wb.close()
    assert main(["import", str(team), str(path), "-q", "--yes"]) == 0
    rows = {r["Account name"]: r for r in _table_rows(team, "Accounts", "tblAccounts")}
    assert rows["Imprimerie Lefèvre"]["Annual revenue"] == pytest.approx(1234.567)
    assert rows["Imprimerie Lefèvre"]["Postal code"] == "01000"     # the lost leading zero
    assert _date(rows["Imprimerie Lefèvre"]["Last contact"]) == dt.date(2026, 3, 4)
    assert rows["Garage Leroy"]["Annual revenue"] == pytest.approx(1234.5)


def test_ids_of_two_crms_are_never_compared(team, tmp_path):
    assert main(["import", str(team), str(hubspot_csv(tmp_path / "h.csv")), "-q"]) == 0
    pipedrive = tmp_path / "pipedrive.csv"
    pipedrive.write_text("Organization - ID,Organization - Name,Organization - City\n"
                         "9001,Verrerie Caron,Dijon\n", encoding="utf-8")
    assert main(["import", str(team), str(pipedrive), "-q"]) == 0
    rows = {r["Account name"]: r for r in _table_rows(team, "Accounts", "tblAccounts")}
    assert rows["Verrerie Caron"]["CRM ID (pipedrive)"] == "9001"     # a new account
    assert rows["DUPONT S.A.R.L."]["CRM ID (hubspot)"] == "9001"
    assert rows["DUPONT S.A.R.L."]["CRM ID (pipedrive)"] is None
    # the same Pipedrive ID again is that account: exact, its blanks filled
    pipedrive.write_text("Organization - ID,Organization - Name,Organization - Owner\n"
                         "9001,Verrerie Caron SAS,Luc Martin\n", encoding="utf-8")
    assert main(["import", str(team), str(pipedrive), "-q"]) == 0
    rows = _table_rows(team, "Accounts", "tblAccounts")
    caron = [r for r in rows if r["Account name"].startswith("Verrerie Caron")]
    assert len(caron) == 1 and caron[0]["Sales owner"] == "Luc Martin"

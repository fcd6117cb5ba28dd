"""The words of the ``Read Me`` sheet, and the colours it explains.

Kept apart from the code that lays the sheet out (``user_sheets.py``) so that
the text can be reviewed and changed without touching the layout. The text
names settings, sheets and columns through :mod:`maillon.engine.contract`.

``BLOCKS`` is a list of tuples, laid out top to bottom:

* ``("title", text)`` — the sheet title;
* ``("subtitle", text)`` — one line under the title;
* ``("h", text)`` — a section heading;
* ``("p", text)`` — a paragraph across the page;
* ``("dl", term, text)`` — a term in the left column, its explanation right;
* ``("swatch", colour key, label, text)`` — a cell painted like ``COLOURS[key]``
  showing ``label``, and what that colour means.

Example
-------
>>> from maillon.workbook_templates.look import COLOURS
>>> from maillon.workbook_templates.readme_text import BLOCKS
>>> BLOCKS[0][0]
'title'
>>> all(b[1] in COLOURS for b in BLOCKS if b[0] == "swatch")
True
"""
from __future__ import annotations

from maillon.engine import contract as c
from maillon.engine.settings import BY_NAME
from maillon.engine.weights import FIT_WEIGHT, MKT_WEIGHTS, POTENTIAL_WEIGHT, SALES_WEIGHTS

_S = BY_NAME  # the settings' declarations, by name


def _pct(name: str) -> str:
    return f"{_S[name].default:.0%}"


_SEGMENT_EDITABLE = " and ".join(f"✎ {h}" for h in c.SEGMENT_EDITABLE)
_TARGET_EDITABLE = " and ".join(f"✎ {h}" for h in c.TARGET_EDITABLE)
_PLAN_EDITABLE = " and ".join(f"✎ {h}" for h in c.PLAN_EDITABLE)

TITLE = "Maillon — one list, one plan for Marketing and Sales"

BLOCKS = [
    ("title", TITLE),
    ("subtitle", "Read this page once; it tells you which cells are yours, how the "
                 "results are computed and how to refresh them."),

    ("h", "What Maillon does"),
    ("p", "Marketing segments the market top-down from its studies; Sales works its "
          "portfolio bottom-up with the crossed ABC matrix. Maillon puts both views of "
          "the same customers and prospects into this one workbook, shows where they "
          "agree and where they disagree, and turns them into one common, named, "
          "ranked and qualified list of accounts and a joint action plan that both "
          "teams can pin on the office wall."),
    ("p", "The workbook is an ordinary Excel file: every result is a value with "
          "normal Excel formatting and charts. You can read, filter, print and email "
          "it without Python; only a recompute needs Maillon."),

    ("h", "The sheets"),
    ("dl", c.SHEET_SETTINGS, "The few numbers that steer the method (shares, weights, "
                             "plan start and horizon, currency). Yours to edit."),
    ("dl", c.SHEET_EXPECTATIONS, "Marketing's market study: what customers expect, how "
                                 "much it matters to the market (1–5) and how well our "
                                 "offer answers it (1–5). Yours to edit."),
    ("dl", c.SHEET_ACCOUNTS, f"The common list of customers and prospects "
                             f"({c.TBL_ACCOUNTS}). One '{c.NEED_PREFIX}…' column per "
                             f"expectation holds the account's need, 1 (low) to 5 "
                             f"(high), or blank when unknown. Yours to edit."),
    ("dl", c.SHEET_FEEDBACK, "Sales' notes from real meetings: relationship, buying "
                             "intent, competitor, main need. Several rows per account "
                             "are fine; the latest one counts. Yours to edit."),
    ("dl", c.SHEET_PLAYBOOK, "The joint action rules: which action, by whom, when, for "
                             "which priority, segment and ABC cell. Yours to edit."),
    ("dl", c.SHEET_SEGMENTS, "Marketing's view: groups of accounts with similar needs, "
                             "with their portrait, top needs and attractiveness."),
    ("dl", c.SHEET_ABC, "Sales' view: the crossed ABC matrix of revenue and potential."),
    ("dl", c.SHEET_RECONCILIATION, "Both views side by side, how far they agree, and "
                                   "the accounts where they conflict."),
    ("dl", c.SHEET_TARGETS, "Every account ranked, with its priority, the reason why, "
                            "what is missing to qualify it and its next action."),
    ("dl", c.SHEET_PLAN, "The joint plan week by week, ready to print as a wall plan."),
    ("dl", c.SHEET_DASHBOARD, "Key figures and charts."),
    ("dl", c.SHEET_HISTORY, "One line per recompute, and any edit that could not be "
                            "kept where it was."),

    ("h", "Which cells are yours"),
    ("swatch", "input", "Yellow", "Light yellow cells are yours to edit. On the sheets "
                                  f"{c.SHEET_SETTINGS}, {c.SHEET_EXPECTATIONS}, "
                                  f"{c.SHEET_ACCOUNTS}, {c.SHEET_FEEDBACK} and "
                                  f"{c.SHEET_PLAYBOOK} a recompute never writes anything. "
                                  "Add rows at the bottom of a table and the table grows "
                                  "with them. On Settings, change only the Value column."),
    ("dl", "✎ columns", f"On the computed sheets, only the columns marked ✎ are yours: "
                        f"{_SEGMENT_EDITABLE} on {c.SHEET_SEGMENTS}, {_TARGET_EDITABLE} "
                        f"on {c.SHEET_TARGETS}, {_PLAN_EDITABLE} on {c.SHEET_PLAN}. A "
                        f"recompute keeps what you typed there, row by row (by Segment "
                        f"ID, Account ID or Action ID)."),
    ("dl", "Everything else", "Computed cells are rewritten by every recompute. If you "
                              "type into one, your value is replaced and the change is "
                              f"listed on {c.SHEET_HISTORY}; an edit whose row has gone "
                              f"(an account removed, say) is also moved to "
                              f"{c.SHEET_HISTORY}. Nothing you typed is lost silently."),
    ("dl", "Your own sheets", "Sheets, charts and formulas you add are kept. Formulas "
                              "that point at Maillon tables, such as "
                              f"=COUNTIF({c.TBL_TARGETS}[Final priority],\"P1\"), keep "
                              "working after a recompute."),

    ("h", "The method, in plain words"),
    ("dl", "1. Segments", "Accounts are grouped by the needs they express (the "
                          f"'{c.NEED_PREFIX}…' scores, each weighted by its Market "
                          "importance; industry, size and region count a little). The "
                          "setting Segments says how many groups (auto lets Maillon choose "
                          "the number that separates them best); Segment seed makes the "
                          "grouping repeatable. An account with no need filled in gets "
                          "the segment that its industry, size, region and the main need "
                          "heard in field feedback point to, and its Qualification says "
                          "so. A segment keeps its ID, its name and its owner from one "
                          "recompute to the next as long as it holds the same accounts."),
    ("dl", "2. Attractiveness", "Each segment gets a score from 0 to 100: "
                                f"100 × ({FIT_WEIGHT:g} × fit + {POTENTIAL_WEIGHT:g} × "
                                "segment Potential ÷ largest segment Potential). The fit "
                                "says how well our offer answers the needs that matter: "
                                "Σ importance × need × (strength − 1) ÷ 4, divided by "
                                "Σ importance × need, over the expectations of "
                                f"{c.SHEET_EXPECTATIONS} (Market importance, Our "
                                "strength) and the segment's average needs. 1 means we "
                                "are at 5 on everything it needs, 0 at 1."),
    ("dl", "3. Revenue class", "Customers with revenue are sorted by Revenue 12m, largest "
                               "first (ties by Account ID). An account is A while the "
                               "accounts ranked above it make less than Revenue A share "
                               f"({_pct('Revenue A share')}) of the total, B while they "
                               f"make less than Revenue B share "
                               f"({_pct('Revenue B share')}), C after that. A customer "
                               "with no revenue is C; a prospect is P."),
    ("dl", "4. Potential class", "The same rule on Potential, over customers and "
                                 "prospects, with Potential A share and Potential B "
                                 "share. A blank Potential counts as C and leaves the "
                                 "account not fully qualified."),
    ("dl", "5. ABC cell", "Revenue class then potential class: AA, AB, … PC (12 cells). "
                          "AA is a large customer with a large potential; PA a prospect "
                          "with a large potential."),
    ("dl", "6. Joint score", "Each account gets a score from 0 to 100 = 100 × (w × "
                             "Marketing + (1 − w) × Sales), w being Marketing weight "
                             f"({_pct('Marketing weight')}). Marketing = "
                             f"{MKT_WEIGHTS['attractiveness']:g} × segment "
                             f"Attractiveness ÷ 100 + {MKT_WEIGHTS['fit']:g} × the "
                             "account's own fit (its segment's when its needs are "
                             f"unknown). Sales = {SALES_WEIGHTS['revenue']:g} × revenue + "
                             f"{SALES_WEIGHTS['potential']:g} × potential + "
                             f"{SALES_WEIGHTS['relationship']:g} × relationship + "
                             f"{SALES_WEIGHTS['intent']:g} × buying intent, where revenue "
                             "and potential each count half by size (log scale, largest "
                             "= 1) and half by rank among all accounts; relationship is "
                             "(score − 1) ÷ 4 and buying intent High 1, Medium 0.5, Low "
                             "0 from the latest field feedback (0.5 and 0.25 without "
                             "feedback). With a weight of 0 % the needs do not move the "
                             "score; a higher Potential never lowers it."),
    ("dl", "7. Priorities", f"The best P1 share ({_pct('P1 share')}) of accounts by score "
                            f"are P1, the next P2 share ({_pct('P2 share')}) are P2 "
                            "(both rounded to the nearest account), the rest P3. Your "
                            "Priority override (P1, P2, P3 or Exclude) wins over the "
                            "computed priority; please give an Override reason."),
    ("dl", "8. Conflicts", "Where the two views disagree. Hidden potential: an account in "
                           "one of the most attractive segments (top third) with revenue "
                           "class C or P but potential class A. Legacy account: revenue "
                           "class A in one of the least attractive segments (bottom "
                           "third). Each conflict comes with a suggested resolution."),
    ("dl", "9. Agreement", "The share of accounts on which both views agree. "
                           "Marketing's tier is the third (top, middle, bottom) of the "
                           "account's segment by Attractiveness; Sales' tier is its best "
                           "class (A = top, B = middle, C or P = bottom). An account "
                           "agrees when both tiers are the same. A plain share that both "
                           "teams can check on the cross-table."),
    ("dl", "10. Joint plan", f"Each rule of the {c.SHEET_PLAYBOOK} applies to the "
                             "accounts that match its Priority, Segment and ABC cell "
                             "(All matches everything; A* means revenue class A, *A "
                             "potential class A). It starts Start week weeks after Plan "
                             "start, lasts Duration weeks and repeats every Repeat every "
                             "weeks (blank: once) within Plan weeks."),

    ("h", "What the colours mean"),
    ("swatch", "P1", "P1", "Top priority: the accounts to work first."),
    ("swatch", "P2", "P2", "Second priority."),
    ("swatch", "P3", "P3", "The rest: kept warm, mostly by Marketing."),
    ("swatch", "Exclude", "Exclude", "Taken out of the plan by an override."),
    ("swatch", "Marketing", "Marketing", "Plan weeks run by Marketing."),
    ("swatch", "Sales", "Sales", "Plan weeks run by Sales."),
    ("swatch", "Joint", "Joint", "Plan weeks run by both teams together."),

    ("h", "How to recompute"),
    ("dl", "In Excel", "On the Maillon ribbon tab, click Recompute segments. Save first "
                       "if you want to keep a copy of the previous results. A recompute "
                       "that has to lay sheets out anew (the first one of a new workbook, "
                       "another number of segments) is quicker through the file: Maillon "
                       "saves this file (it asks first, except for a new workbook), "
                       "recomputes it as the command line does, keeps the previous version "
                       "as a backup and opens it again."),
    ("dl", "Without Excel", "Close the file in Excel, then run: maillon recompute "
                            "team.xlsx (team.xlsx being this file). The previous version "
                            "is kept as a backup beside it."),
    ("dl", "If input is wrong", "Nothing is changed, and one message names the sheet, "
                                "row and column to fix and what is expected there."),

    ("h", "Bringing in the teams' files"),
    ("p", "Instead of pasting rows into Accounts, import the files as the teams have them: "
          "a CRM export (Salesforce, HubSpot, Dynamics, Pipedrive), a trade-show or "
          "purchased prospect list, a SIRENE extract, as CSV or XLSX. In Excel, click "
          "Import… on the Maillon tab and pick the files; or run, with this file closed: "
          "maillon import team.xlsx export.csv (add --dry-run to see first what it would "
          "do). French numbers (1 234,50 ; 12 k€), day-first dates and identifiers "
          "with leading zeros are read as you mean them; every guess is reported."),
    ("dl", c.SHEET_IMPORT_MAPPING, "How each export's columns map to the Accounts "
                                   "columns, one row per source and column. Yours: correct "
                                   "Maps to (a column of Accounts, Keep or Skip) and type "
                                   "Yes in Confirmed; the next import of that source asks "
                                   "nothing. Annual revenue (the company's turnover) is "
                                   "kept as its own column, never as Revenue 12m."),
    ("dl", c.SHEET_IMPORT_REVIEW, "One company, one row: a company found by an exact "
                                  "identifier (Account ID, CRM ID, SIREN, web domain) gets "
                                  "its blank cells filled, and a value that differs is "
                                  "listed here, never overwritten. A probable duplicate "
                                  "(a similar name in the same city) is held here: choose "
                                  "Same or Different in the Decision column, and the next "
                                  "import applies it."),

    ("h", "When copies come back by email"),
    ("p", "Recompute, then send the workbook. People edit their copy (overrides, statuses, "
          "meetings, new prospects, corrected figures) and send it back. Merge every copy "
          "into your workbook, even if you kept editing it: in Excel, click Merge copies… "
          "on the Maillon tab and pick the copies; or run, with this file closed: maillon "
          "merge team.xlsx \"team (Claire).xlsx\" team-HM.xlsx. Each recompute records in the workbook "
          "what it sent, so the merge knows who changed what since: rows are matched by "
          "Account ID, Segment ID, Action ID (meetings by their content), never by their "
          "position, so sorting or filtering a copy changes nothing, and 120 typed as "
          "text, a trailing space or p1 for P1 is no change. The copies are never "
          "modified."),
    ("dl", c.SHEET_MERGE, f"Written by a merge: the files merged ({c.TBL_MERGE_FILES}: who "
                          f"last saved each, when, which recompute it came from), then one "
                          f"row per change a copy brought and per conflict "
                          f"({c.TBL_MERGE}): sheet, key, name, column, the base value (as "
                          f"sent), each file's value, the value kept."),
    ("dl", "Changed, Added", "A cell changed in one copy, or the same way in several, takes "
                             "the change. A new account or meeting arrives once, however "
                             "many copies bring it."),
    ("dl", "Conflict", "Two people changed the same cell differently, or added the same "
                       "Account ID with different data: the cell keeps its base value "
                       "(an added row, the first copy's) until you decide, and is "
                       "highlighted in orange where it lives (on Accounts, Target List, "
                       "...), so that you see it while you work. In Decision, "
                       f"choose {c.DECISION_BASE} or the label of the file whose value "
                       "wins; the next merge or recompute writes it, fills Applied and "
                       "takes the highlight away (the cell gets its own format back). On "
                       "the engine sheets the highlight also goes as soon as you type "
                       "another value in the cell."),
    ("dl", "Missing, Deleted vs edited", "A row missing from a copy is not deleted: it is "
                                         "listed. Choose "
                                         f"{c.DECISION_KEEP_ROW} or "
                                         f"{c.DECISION_DELETE_ROW} in Decision. If someone "
                                         "else edited that row, the edit is kept and the "
                                         "row is a conflict to decide."),
    ("dl", "Refused copies", "A copy of another workbook, a copy from an older recompute "
                             "whose record was lost (some programs drop it: then name the "
                             "file as you sent it with --base), a file that is not a "
                             "Maillon workbook or is open in Excel: one message names the "
                             "file, and nothing is written. maillon diff A.xlsx B.xlsx "
                             "lists what changed between two versions."),
]

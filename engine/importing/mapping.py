"""Which column of an export is which field: aliases, fuzzy matching, saved mappings.

An English/French alias table covers the usual exports (Salesforce, HubSpot in
English and French, Dynamics 365 with its hidden ``(Do Not Modify)``
columns, Pipedrive, the SIRENE register); other headers are matched to the
aliases with rapidfuzz. A header that is ambiguous (``Name``, ``Owner``,
``Record ID``, ``Type``) or only close to an alias needs a confirmation: the
proposal is kept on the ``Import Mapping`` sheet, where the user confirms or
corrects it; the next import of the same source reuses it without questions.

Fields are the contract's ``tblAccounts`` columns, plus identifiers and
company facts that the import keeps as extra columns (``CRM ID``, ``SIREN``,
``Annual revenue``, ...). ``Annual revenue`` (the company's turnover) is never
``Revenue 12m`` (our sales to it). A column mapped to nothing is kept as an
extra column under its own header (``Keep``), or dropped when the mapping
says ``Skip``: either way it is listed.

Example
-------
>>> m = map_columns(["Account Name", "Billing City", "Annual Revenue", "Owner", "Fax"],
...                 "generic")
>>> m.profile, [(c.header, c.target, c.how) for c in m.columns]  # doctest: +NORMALIZE_WHITESPACE
('generic', [('Account Name', 'Account name', 'alias'), ('Billing City', 'City', 'alias'),
 ('Annual Revenue', 'Annual revenue', 'alias'), ('Owner', 'Sales owner', 'ambiguous'),
 ('Fax', 'Keep', 'unmapped')])
>>> [c.header for c in m.to_confirm()]
['Owner']
"""
from __future__ import annotations

from dataclasses import dataclass, field

from maillon.engine import contract as C
from maillon.engine.normalise import fold

__all__ = ["PROFILES", "FIELDS", "EXTRA_FIELDS", "KEEP", "SKIP", "ColumnMap", "Mapping",
           "map_columns", "detect_profile", "alias_key"]

PROFILES = ("auto", "salesforce", "hubspot", "dynamics", "pipedrive", "sirene", "generic")
KEEP, SKIP = "Keep", "Skip"  # an unmapped column: kept as an extra column, or not imported

# Kept in tblAccounts as extra columns (the engine ignores them; the import matches on some).
EXTRA_FIELDS = ("CRM ID", "SIREN", "SIRET", "VAT number", "Website", "Email", "Postal code",
                "Country", "NAF code", "Annual revenue", "Phone", "Address")
FIELDS = tuple(C.ACCOUNT_COLUMNS) + EXTRA_FIELDS
FEEDBACK_FIELDS = tuple(C.FEEDBACK_COLUMNS) + ("Account name",)


def alias_key(header: str) -> str:
    """A header reduced for lookup: folded, punctuation and spacing made plain.

    >>> alias_key("Nom de l’entreprise "), alias_key("Billing Zip/Postal Code")
    ("nom de l'entreprise", 'billing zip/postal code')
    """
    text = fold(header).replace("’", "'").replace("\u2013", "-").replace("_", " ")
    return " ".join(text.replace(" :", ":").split())


def _table(spec: dict[str, str]) -> dict[str, str]:
    out = {}
    for target, aliases in spec.items():
        for a in aliases.split("|"):
            out[alias_key(a)] = target
    return out


# Every alias names one field; "|" separates aliases. Folded when looked up.
ALIASES = _table({
    "Account ID": "account id maillon|maillon id|id maillon",
    "Account name": "account name|nom du compte|company name|nom de l'entreprise|nom entreprise|"
                    "organization - name|organisation - nom|raison sociale|denomination|"
                    "denominationunitelegale|nom de l'organisation|company|entreprise|societe|"
                    "nom de la societe|organization|organisation|client|nom du client|"
                    "customer name|account|compte|enseigne",
    "Status": "account type|type de compte|lifecycle stage|phase du cycle de vie|statut|status|"
              "type de relation|relationship type|customer status|statut client",
    "Industry": "industry|secteur d'activite|secteur|industrie|activite|"
                "libelle naf|libelle activite|organization - industry|sector",
    "Region": "region|billing state/province|state/region|etat/region|state|"
              "address 1: state/province|adresse 1: departement/province|province|"
              "organization - region|region commerciale",
    "City": "billing city|city|ville|commune|libellecommuneetablissement|organization - city|"
            "address 1: city|adresse 1: ville|localite|shipping city",
    "Employees": "employees|number of employees|nombre d'employes|effectif|effectifs|"
                 "tranche d'effectif|tranche effectif|trancheeffectifsunitelegale|"
                 "trancheeffectifsetablissement|nombre de salaries|organization - employees|"
                 "headcount|salaries",
    "Sales owner": "account owner|company owner|proprietaire de l'entreprise|"
                   "proprietaire du compte|organization - owner|organisation - proprietaire|"
                   "commercial|sales owner|responsable commercial|charge d'affaires|"
                   "proprietaire de l'organisation",
    "Revenue 12m": "revenue 12m|ca 12 mois|ca 12m|our sales 12m|ventes 12 mois",
    "Potential": "potential|potentiel|potentiel annuel|estimated potential",
    "Last contact": "last activity|last activity date|date de derniere activite|last contacted|"
                    "dernier contact|date du dernier contact|last contact|"
                    "organization - last activity date|derniere activite|last modified date",
    "CRM ID": "record id|id de fiche d'informations|id de la fiche|account id|"
              "(do not modify) account|organization - id|organisation - id|crm id|id crm|"
              "company id|id entreprise|salesforce id|hubspot id",
    "SIREN": "siren|numero siren|siren number|n siren|code siren",
    "SIRET": "siret|numero siret|siret number|n siret|siret du siege",
    "VAT number": "vat|vat number|tva intracommunautaire|numero de tva|n tva|"
                  "numero tva intracommunautaire|vat id|tax id",
    "Website": "website|site web|company domain name|nom de domaine de l'entreprise|domain|"
               "web site|url|site internet|organization - website|domaine",
    "Email": "email|e-mail|adresse e-mail|courriel|mail",
    "Postal code": "billing zip/postal code|postal code|zip|zip code|code postal|cp|"
                   "codepostaletablissement|address 1: zip/postal code|"
                   "adresse 1: code postal|postcode|organization - postal code",
    "Country": "billing country|country|pays|country/region|pays/region|"
               "address 1: country/region|adresse 1: pays/region",
    "NAF code": "code naf|code ape|naf|ape|activiteprincipaleunitelegale|"
                "activiteprincipaleetablissement|naf code",
    "Annual revenue": "annual revenue|chiffre d'affaires annuel|chiffre d'affaires|ca|ca annuel|"
                      "revenue|turnover|organization - annual revenue|revenu annuel",
    "Phone": "phone|telephone|numero de telephone|main phone|phone number|tel|"
             "telephone principal",
    "Address": "billing street|address|adresse|street address|adresse 1: rue 1|"
               "address 1: street 1|adresse postale",
    SKIP: "(do not modify) row checksum|(do not modify) modified on|row checksum",
})
# the same text means different things in different exports: confirm
AMBIGUOUS = {alias_key(k): v for k, v in {
    "Name": "Account name", "Nom": "Account name", "Owner": "Sales owner",
    "Propriétaire": "Sales owner", "Record ID": "CRM ID", "ID": "CRM ID", "Type": "Status",
    "Date": "Last contact", "Revenue": "Annual revenue", "CA": "Annual revenue",
}.items()}
# what an ambiguous header means in an export that is known
PROFILE_ALIASES = {"salesforce": {"type": "Status", "owner": "Sales owner"},
                   "pipedrive": {"owner": "Sales owner"}}
# feedback (--into feedback) headers
FEEDBACK_ALIASES = _table({
    "Account ID": "account id maillon|maillon id",
    "Account name": "account name|nom du compte|company|entreprise|societe|company name|"
                    "nom de l'entreprise|organization - name|organization|associated company|"
                    "entreprise associee|regarding|concernant|client|compte|account|"
                    "organisation|societe associee",
    "CRM ID": "account id|record id|company id|(do not modify) account|organization - id|"
              "associated company id|crm id",
    "Date": "date|activity date|date de l'activite|meeting date|date du rendez-vous|"
            "due date|start time|heure de debut|created date|date de creation|rdv",
    "Sales rep": "assigned to|owner|activity owner|proprietaire|attribue a|sales rep|commercial|"
                 "created by|cree par|user|utilisateur",
    "Main need": "main need|besoin principal|besoin|need|topic|sujet",
    "Relationship": "relationship|relation|qualite de la relation",
    "Buying intent": "buying intent|intention d'achat|intent|interet",
    "Competitor": "competitor|concurrent|competition",
    "Note": "note|notes|comments|commentaire|commentaires|description|body|subject|objet",
})

# a header only this export writes, which names it
_SIGNATURES = {
    "salesforce": ("account name", "account owner", "billing city", "billing state/province",
                   "billing zip/postal code", "account id", "account type"),
    "hubspot": ("record id", "company name", "company owner", "nom de l'entreprise",
                "id de fiche d'informations", "proprietaire de l'entreprise",
                "company domain name", "lifecycle stage", "phase du cycle de vie"),
    "dynamics": ("(do not modify) account", "(do not modify) row checksum", "nom du compte",
                 "address 1: city", "adresse 1: ville", "proprietaire"),
    "pipedrive": ("organization - name", "organization - owner", "organization - id",
                  "organisation - nom"),
    "sirene": ("siren", "siret", "denominationunitelegale", "raison sociale",
               "trancheeffectifsunitelegale", "tranche d'effectif", "code naf",
               "activiteprincipaleunitelegale", "libellecommuneetablissement"),
}


def detect_profile(headers: list[str]) -> str:
    """The export a file comes from, by its headers (``generic`` when none stands out).

    >>> detect_profile(["(Do Not Modify) Account", "Nom du compte"]), detect_profile(["a", "b"])
    ('dynamics', 'generic')
    """
    if len(set(headers) & set(C.ACCOUNT_COLUMNS)) >= 3:  # our own Accounts, as exported
        return "generic"
    keys = {alias_key(h) for h in headers}
    scores = {p: len(keys & set(sig)) for p, sig in _SIGNATURES.items()}
    if any(k.startswith("(do not modify)") for k in keys):
        return "dynamics"
    best = max(scores, key=lambda p: (scores[p], p == "salesforce"))
    return best if scores[best] >= 2 else "generic"


@dataclass
class ColumnMap:
    """How one column of the file maps: ``target`` is a field, ``Keep`` or ``Skip``.

    ``how``: ``saved`` (the Import Mapping sheet said so), ``alias``,
    ``fuzzy`` (close to an alias, score in ``score``), ``ambiguous``
    (confirm), ``unmapped`` (kept as an extra column), ``hidden`` (a Dynamics
    bookkeeping column, skipped).
    """

    header: str
    index: int
    target: str
    how: str
    score: float = 100.0
    confirmed: bool = True

    @property
    def extra(self) -> bool:
        """Kept as an extra column of its own name."""
        return self.target == KEEP


@dataclass
class Mapping:
    profile: str
    columns: list[ColumnMap] = field(default_factory=list)

    def to_confirm(self) -> list[ColumnMap]:
        return [c for c in self.columns if not c.confirmed]

    def target_of(self, name: str) -> ColumnMap | None:
        return next((c for c in self.columns if c.target == name), None)

    def unmapped(self) -> list[ColumnMap]:
        return [c for c in self.columns if c.target in (KEEP, SKIP)]

    def fields(self) -> dict[str, int]:
        """``{field: column index}`` of the mapped fields (the first column wins)."""
        out: dict[str, int] = {}
        for c in self.columns:
            if c.target not in (KEEP, SKIP):
                out.setdefault(c.target, c.index)
        return out


FUZZY_ACCEPT, FUZZY_PROPOSE = 94.0, 82.0


def _need_column(header: str, index: int, expectations: tuple[str, ...]) -> ColumnMap:
    """A survey question as the ``Need:`` column of the expectation it names (or Skip)."""
    from rapidfuzz import fuzz

    key = alias_key(header)
    best, best_score = None, 0.0
    for e in expectations:
        ek = alias_key(e)
        if ek and (ek in key or key == alias_key(C.need_column(e))):
            return ColumnMap(header, index, C.need_column(e), "expectation")
        score = fuzz.partial_ratio(ek, key)
        if score > best_score:
            best, best_score = e, score
    if best is not None and best_score >= FUZZY_PROPOSE:
        return ColumnMap(header, index, C.need_column(best), "fuzzy", round(best_score, 1),
                         confirmed=False)
    return ColumnMap(header, index, SKIP, "unmapped")


def map_columns(headers: list[str], profile: str = "auto", saved: dict[str, str] | None = None,
                into: str = "accounts", allowed: tuple[str, ...] | None = None,
                expectations: tuple[str, ...] = ()) -> Mapping:
    """Map each header to a field (see the module).

    ``saved`` is ``{header: target}`` from the Import Mapping sheet for this
    source (confirmed by the user): it wins over everything. ``into`` is
    ``accounts`` or ``feedback`` (its own aliases). Two columns mapped to the
    same field: the second needs a confirmation. ``into="needs"`` (a survey)
    maps questions to ``Need: E`` columns by the ``expectations`` they name:
    a question that contains an expectation's name maps to it; one only close
    to a name needs a confirmation; other columns are not imported.

    >>> m = map_columns(["Entreprise", "Horodatage", "Importance : Price", "Delivery reliabilty ?"],
    ...                 into="needs", expectations=("Price", "Delivery reliability"))
    >>> [(c.header, c.target, c.confirmed) for c in m.columns]  # doctest: +NORMALIZE_WHITESPACE
    [('Entreprise', 'Account name', True), ('Horodatage', 'Skip', True),
     ('Importance : Price', 'Need: Price', True),
     ('Delivery reliabilty ?', 'Need: Delivery reliability', False)]
    """
    from rapidfuzz import fuzz, process

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}; got {profile!r}")
    if profile == "auto":
        profile = detect_profile(headers)
    aliases = FEEDBACK_ALIASES if into == "feedback" else ALIASES
    if into == "accounts" and profile in ("generic",):
        aliases = {**aliases, "account id": "Account ID"}  # our own export
    saved = {alias_key(k): v for k, v in (saved or {}).items()}
    keys = list(aliases)
    out = Mapping(profile)
    used: set[str] = set()
    for i, header in enumerate(headers):
        key = alias_key(header)
        if not key:
            continue
        if key in saved:
            cm = ColumnMap(header, i, saved[key], "saved")
        elif key in aliases:
            cm = ColumnMap(header, i, aliases[key], "alias")
        elif key in PROFILE_ALIASES.get(profile, {}) and into == "accounts":
            cm = ColumnMap(header, i, PROFILE_ALIASES[profile][key], f"{profile} alias")
        elif key in AMBIGUOUS and into == "accounts":
            cm = ColumnMap(header, i, AMBIGUOUS[key], "ambiguous", confirmed=False)
        elif key.startswith("(do not modify)"):
            cm = ColumnMap(header, i, SKIP, "hidden")
        else:
            hit = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=FUZZY_PROPOSE)
            if hit is None:
                cm = ColumnMap(header, i, KEEP, "unmapped")
            else:
                cm = ColumnMap(header, i, aliases[hit[0]], "fuzzy", round(hit[1], 1),
                               confirmed=hit[1] >= FUZZY_ACCEPT)
        if into == "needs" and cm.target == KEEP:
            cm = _need_column(header, i, expectations)
        if allowed is not None and cm.target not in allowed and cm.target not in (KEEP, SKIP):
            cm = ColumnMap(header, i, KEEP, "unmapped")
        if cm.target not in (KEEP, SKIP):
            if cm.target in used and cm.how != "saved":
                cm.confirmed = False
                cm.how = "duplicate"
            used.add(cm.target)
        out.columns.append(cm)
    return out


#: Feedback fields only a log of meetings fills (an accounts export has none of them).
MEETING_FIELDS = ("Main need", "Relationship", "Buying intent", "Competitor", "Note")
#: Account fields only an accounts export fills (a meetings log or a survey has none of them).
ACCOUNT_ONLY_FIELDS = ("Employees", "Annual revenue", "Potential", "Revenue 12m", "Industry",
                       "SIREN", "SIRET", "NAF code", "Status", "Sales owner")


def guess_into(headers: list[str], expectations: tuple[str, ...] = ()) -> tuple[str, str]:
    """What a file is, by its headers: ``("accounts" | "feedback" | "needs", why)``.

    ``needs``: questions that name expectations (all of them, or at least two),
    and no column only an accounts export has. ``feedback``: a date and a column
    only a meetings log has (need, relationship, intent, competitor, note), and
    no column only an accounts export has. Anything else: ``accounts``, the
    default of ``maillon import``.

    >>> guess_into(["Compte", "Date de l'activité", "Intention d'achat", "Commentaires"])[0]
    'feedback'
    >>> guess_into(["Entreprise", "Importance : Price", "Delivery ?"], ("Price", "Delivery"))[0]
    'needs'
    >>> guess_into(["Account Name", "Employees", "Created Date", "Description"])[0]
    'accounts'
    """
    def named(cols):
        return ", ".join(repr(c.header) for c in cols[:4])

    accounts = map_columns(headers, into="accounts")
    account_only = [c for c in accounts.columns if c.target in ACCOUNT_ONLY_FIELDS]
    if expectations and not account_only:
        survey = map_columns(headers, into="needs", expectations=tuple(expectations))
        needs = [c for c in survey.columns if c.target.startswith(C.NEED_PREFIX)
                 and c.how == "expectation"]
        if needs and (len(needs) >= 2 or len(needs) == len(expectations)):
            return "needs", f"a survey: its questions {named(needs)} name expectations"
    if not account_only:
        log = map_columns(headers, into="feedback")
        dates = [c for c in log.columns if c.target == "Date"]
        meeting = [c for c in log.columns if c.target in MEETING_FIELDS]
        if dates and meeting:
            return "feedback", (f"meetings: a date ({named(dates)}) and "
                                f"{named(meeting)}")
    return "accounts", "accounts"

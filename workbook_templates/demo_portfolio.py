"""A realistic, fictional French B2B portfolio to demonstrate and test Maillon.

:func:`generate_portfolio` draws customers and prospects of an industrial
supplier: industries, regions and real cities, generated company names,
long-tailed revenue (so the ABC classes mean something), potential that grows
with size, sales owners by territory, and ``Need:`` scores with a real
structure: every account belongs to one of five hidden needs profiles,
correlated with its industry and size, that a segmentation should find again.
About a third of the accounts have field feedback (1–3 meetings).

Everything is drawn with numpy in whole arrays: a million accounts take
seconds. The same arguments always give the same portfolio.

Example
-------
>>> from maillon.workbook_templates.demo_portfolio import generate_portfolio
>>> accounts, feedback = generate_portfolio(200, seed=7, as_of="2026-06-01")
>>> len(accounts), accounts["Account ID"].is_unique
(200, True)
>>> sorted(accounts["Status"].unique())
['Customer', 'Prospect']
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from maillon.engine import contract as c
from maillon.workbook_templates.defaults import default_expectations

__all__ = ["generate_portfolio", "PROFILES", "hidden_profiles"]

# ----------------------------------------------------------------------------- profiles
# Five hidden needs profiles, written on the default expectations (1-5).
PROFILES = {
    "Cost-driven buyers": {"Price": 5, "Delivery reliability": 3, "Technical service": 1,
                           "Innovation": 1, "Sustainability": 2, "Digital ordering": 2,
                           "Customisation": 1},
    "Just-in-time producers": {"Price": 2, "Delivery reliability": 5, "Technical service": 2,
                               "Innovation": 2, "Sustainability": 1, "Digital ordering": 5,
                               "Customisation": 2},
    "Engineering partners": {"Price": 2, "Delivery reliability": 2, "Technical service": 5,
                             "Innovation": 5, "Sustainability": 2, "Digital ordering": 1,
                             "Customisation": 3},
    "Regulated and green": {"Price": 2, "Delivery reliability": 3, "Technical service": 3,
                            "Innovation": 2, "Sustainability": 5, "Digital ordering": 2,
                            "Customisation": 1},
    "Made-to-measure workshops": {"Price": 3, "Delivery reliability": 1, "Technical service": 2,
                                  "Innovation": 2, "Sustainability": 1, "Digital ordering": 1,
                                  "Customisation": 5},
}
_PROFILE_NAMES = list(PROFILES)
# log-mean of head count per profile (cost-driven and JIT plants are larger)
_PROFILE_SIZE = np.array([5.0, 5.4, 4.6, 4.9, 3.3])

# industry: (weight, profile probabilities, name words)
_INDUSTRIES = {
    "Agroalimentaire": (0.13, [0.40, 0.25, 0.05, 0.20, 0.10],
                        ["Conserverie", "Laiterie", "Biscuiterie", "Minoterie", "Salaisons"]),
    "Automobile": (0.11, [0.20, 0.60, 0.10, 0.05, 0.05],
                   ["Équipements Auto", "Forge", "Décolletage", "Emboutissage"]),
    "Aéronautique": (0.07, [0.03, 0.12, 0.60, 0.15, 0.10],
                     ["Aéro", "Usinage de Précision", "Composites", "Aérostructures"]),
    "Chimie": (0.08, [0.15, 0.10, 0.15, 0.55, 0.05],
               ["Chimie", "Résines", "Peintures", "Polymères"]),
    "BTP": (0.14, [0.55, 0.10, 0.05, 0.10, 0.20],
            ["Bâtiment", "Travaux Publics", "Charpentes", "Menuiseries"]),
    "Santé": (0.07, [0.05, 0.10, 0.25, 0.55, 0.05],
              ["Laboratoires", "Dispositifs Médicaux", "Pharma"]),
    "Logistique": (0.09, [0.35, 0.50, 0.05, 0.05, 0.05],
                   ["Transports", "Entrepôts", "Logistique"]),
    "Énergie": (0.06, [0.10, 0.10, 0.30, 0.45, 0.05],
                ["Énergies", "Solaire", "Hydraulique", "Réseaux"]),
    "Électronique": (0.08, [0.05, 0.25, 0.50, 0.05, 0.15],
                     ["Électronique", "Câblage", "Cartes et Systèmes"]),
    "Distribution": (0.10, [0.55, 0.35, 0.02, 0.05, 0.03],
                     ["Distribution", "Négoce", "Fournitures"]),
    "Mécanique": (0.07, [0.10, 0.10, 0.20, 0.05, 0.55],
                  ["Mécanique", "Ateliers", "Chaudronnerie", "Tôlerie"]),
}
_IND_NAMES = list(_INDUSTRIES)
_IND_WEIGHTS = np.array([v[0] for v in _INDUSTRIES.values()])
_IND_PROFILE = np.array([v[1] for v in _INDUSTRIES.values()], dtype=float)

_REGIONS = {
    "Île-de-France": (0.20, ["Paris", "Boulogne-Billancourt", "Saint-Denis", "Argenteuil",
                             "Montreuil", "Nanterre", "Créteil", "Versailles"]),
    "Auvergne-Rhône-Alpes": (0.14, ["Lyon", "Grenoble", "Saint-Étienne", "Clermont-Ferrand",
                                    "Annecy", "Villeurbanne", "Valence"]),
    "Hauts-de-France": (0.09, ["Lille", "Amiens", "Roubaix", "Tourcoing", "Dunkerque",
                               "Valenciennes"]),
    "Grand Est": (0.08, ["Strasbourg", "Reims", "Metz", "Mulhouse", "Nancy", "Colmar"]),
    "Occitanie": (0.09, ["Toulouse", "Montpellier", "Nîmes", "Perpignan", "Béziers", "Albi"]),
    "Nouvelle-Aquitaine": (0.09, ["Bordeaux", "Limoges", "Poitiers", "Pau", "La Rochelle",
                                  "Mérignac"]),
    "Provence-Alpes-Côte d'Azur": (0.08, ["Marseille", "Nice", "Toulon", "Aix-en-Provence",
                                          "Avignon", "Cannes"]),
    "Pays de la Loire": (0.07, ["Nantes", "Angers", "Le Mans", "Saint-Nazaire", "Cholet"]),
    "Bretagne": (0.05, ["Rennes", "Brest", "Quimper", "Lorient", "Vannes", "Saint-Brieuc"]),
    "Normandie": (0.05, ["Rouen", "Le Havre", "Caen", "Cherbourg-en-Cotentin", "Évreux"]),
    "Bourgogne-Franche-Comté": (0.04, ["Dijon", "Besançon", "Belfort", "Chalon-sur-Saône",
                                       "Auxerre"]),
    "Centre-Val de Loire": (0.02, ["Tours", "Orléans", "Bourges", "Blois", "Chartres"]),
}
_REG_NAMES = list(_REGIONS)
_REG_WEIGHTS = np.array([v[0] for v in _REGIONS.values()])

# sales reps and the regions they cover
_REPS = {
    "Claire Martin": ["Île-de-France"],
    "Julien Lefèvre": ["Île-de-France", "Centre-Val de Loire"],
    "Sophie Bernard": ["Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté"],
    "Thomas Girard": ["Hauts-de-France", "Normandie", "Grand Est"],
    "Nadia Benali": ["Occitanie", "Provence-Alpes-Côte d'Azur"],
    "Hugo Moreau": ["Nouvelle-Aquitaine"],
    "Camille Roux": ["Pays de la Loire", "Bretagne"],
}
_REP_NAMES = list(_REPS)

_SURNAMES = ["Dubois", "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand",
             "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
             "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
             "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand",
             "Gauthier", "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel",
             "Mathieu", "Gautier", "Masson", "Marchand", "Duval", "Denis", "Dumont", "Marie",
             "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud",
             "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez",
             "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal",
             "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
             "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey",
             "Lecomte", "Carpentier", "Lebrun", "Hubert", "Fontaine", "Barre", "Kervella",
             "Le Gall", "Etchart", "Baudry", "Vasseur", "Hoarau", "Poulain", "Tessier"]
_GENERIC = ["Industries", "Groupe", "Ateliers", "Établissements", "Société", "Techniques"]
_LEGAL = np.array(["SAS", "SA", "SARL", "SASU", ""])
_LEGAL_W = np.array([0.45, 0.15, 0.22, 0.06, 0.12])

_COMPETITORS = np.array(["Arvello Industrie", "Normetal", "Sofrapi", "Dexium Group",
                         "Technoval", "Lorinox", "Groupe Vernaud"])
_INTENTS = np.array(c.BUYING_INTENTS)

# note templates by rank of the main need in the default expectations, and generic ones
_NOTES_BY_NEED = {
    "Price": ["Asked for a price review before renewal", "Compares us with a cheaper offer",
              "Wants volume discounts on the yearly contract"],
    "Delivery reliability": ["Complained about two late deliveries",
                             "Wants firm lead times and weekly call-offs",
                             "Interested in a consignment stock"],
    "Technical service": ["Needs an application engineer on site",
                          "Praised our technical support", "Asked for a line audit"],
    "Innovation": ["Working on a new product range; wants co-development",
                   "Asked about our new materials", "Invited us to their innovation day"],
    "Sustainability": ["Needs carbon footprint data for their CSR report",
                       "Asked about recycled content", "Auditing suppliers on ISO 14001"],
    "Digital ordering": ["Wants EDI ordering", "Asked for live stock on the web shop",
                         "Buyer tired of ordering by email"],
    "Customisation": ["Needs small batches with special finishes",
                      "Sent drawings for a made-to-measure part",
                      "Asked for a custom packaging option"],
}
_GENERIC_NOTES = ["Follow-up meeting planned", "Good meeting with the plant manager",
                  "Budget decided in Q4", "New buyer in place", "Asked for samples",
                  "Wants a quote", "Visit of the plant"]


def _choice(rng: np.random.Generator, n: int, p) -> np.ndarray:
    """Vectorised categorical draw: indices 0..len(p)-1 with probabilities p."""
    p = np.asarray(p, dtype=float)
    cdf = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(p) - 1)


def _rows_choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cdf).sum(axis=1), probs.shape[1] - 1)


def _profile_matrix(names: list[str], rng: np.random.Generator) -> np.ndarray:
    """Mean need (1-5) of each hidden profile on each expectation (5 x k)."""
    k = len(names)
    if all(n in PROFILES[_PROFILE_NAMES[0]] for n in names):
        return np.array([[PROFILES[p][n] for n in names] for p in _PROFILE_NAMES], dtype=float)
    # custom expectations: each profile cares a lot about a few, little about the rest
    means = rng.uniform(1.5, 2.5, size=(5, k))
    for i in range(5):
        top = rng.choice(k, size=min(k, 2), replace=False)
        means[i, top] = 5.0
        means[i, i % k] = 5.0 if k < 5 else means[i, i % k]
    return means


def _id_strings(prefix: str, numbers: np.ndarray, width: int) -> list[str]:
    return [f"{prefix}{v:0{width}d}" for v in numbers.tolist()]


def hidden_profiles(n_accounts: int = 2000, seed: int = 7) -> np.ndarray:
    """The hidden needs profile (0-4) of each account :func:`generate_portfolio` draws.

    Same arguments, same order: row i of the accounts has profile ``[i]``.
    Meant for tests and demos that check a segmentation finds the structure.
    """
    return _draw(n_accounts, None, seed, dt.date(2026, 1, 1), profiles_only=True)


def generate_portfolio(n_accounts: int = 2000, expectations: pd.DataFrame | None = None,
                       seed: int = 7, as_of=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw a fictional French B2B portfolio: ``(accounts, feedback)``.

    Parameters
    ----------
    n_accounts : int
        Number of accounts, 1 to 1,048,575 (Excel's last row).
    expectations : DataFrame or None
        ``tblExpectations``; its names give the ``Need:`` columns. ``None``
        uses :func:`~maillon.workbook_templates.defaults.default_expectations`.
    seed : int
        Makes the draw repeatable.
    as_of : date-like or None
        The day the portfolio is seen from (last contacts and meetings are
        before it). ``None`` means today.

    Returns
    -------
    accounts : DataFrame
        Exactly the ``tblAccounts`` headers, then one ``Need: <Expectation>``
        column per expectation. ``Employees`` and needs are ``Int64`` (blank is
        ``<NA>``), money ``float64``, ``Last contact`` ``datetime64``.
    feedback : DataFrame
        Exactly the ``tblFeedback`` headers, sorted by Account ID and Date.
    """
    if isinstance(n_accounts, bool) or not isinstance(n_accounts, (int, np.integer)):
        raise TypeError(f"n_accounts: expected a whole number, got {n_accounts!r}.")
    if not 1 <= n_accounts <= 1_048_575:
        raise ValueError(f"n_accounts: expected 1 to 1,048,575 accounts, got {n_accounts}.")
    if expectations is not None and c.EXPECTATION_COLUMNS[0] not in expectations.columns:
        raise ValueError(f"expectations: a '{c.EXPECTATION_COLUMNS[0]}' column is required.")
    day = dt.date.today() if as_of is None else pd.Timestamp(as_of).date()
    return _draw(int(n_accounts), expectations, seed, day)


def _draw(n: int, expectations, seed: int, as_of: dt.date, profiles_only: bool = False):
    rng = np.random.default_rng(seed)
    if expectations is None:
        expectations = default_expectations()
    names = [str(v) for v in expectations[c.EXPECTATION_COLUMNS[0]].tolist()
             if isinstance(v, str) and v.strip()]
    names = list(dict.fromkeys(names))

    # --- who they are --------------------------------------------------------------
    industry = _choice(rng, n, _IND_WEIGHTS)
    profile = _rows_choice(rng, _IND_PROFILE[industry])
    if profiles_only:
        return profile
    region = _choice(rng, n, _REG_WEIGHTS)
    city_idx = np.empty(n, dtype=np.int64)
    for r, (_, cities) in enumerate(_REGIONS.values()):
        m = region == r
        # larger cities first in the lists: Zipf-like weights
        w = 1.0 / np.arange(1, len(cities) + 1)
        city_idx[m] = _choice(rng, int(m.sum()), w)
    employees = np.rint(np.exp(rng.normal(_PROFILE_SIZE[profile], 1.1))).astype(np.int64)
    employees = np.clip(employees, 1, 250_000)
    size = np.log(employees)
    # larger companies are more often customers: ~38% overall
    p_customer = 1.0 / (1.0 + np.exp(-(-0.50 + 0.35 * (size - 4.8))))
    customer = rng.random(n) < p_customer

    # --- names -----------------------------------------------------------------------
    surname = rng.integers(0, len(_SURNAMES), n)
    word_pick = rng.random(n)
    style = _choice(rng, n, [0.45, 0.2, 0.15, 0.1, 0.1])
    legal = _LEGAL[_choice(rng, n, _LEGAL_W)]
    ind_words = [v[2] for v in _INDUSTRIES.values()]
    generic_pick = rng.integers(0, len(_GENERIC), n)
    city_names = [cities for _, cities in _REGIONS.values()]
    account_names = []
    for ind, s, wp, st, lg, g, rg, ci in zip(
            industry.tolist(), surname.tolist(), word_pick.tolist(), style.tolist(),
            legal.tolist(), generic_pick.tolist(), region.tolist(), city_idx.tolist()):
        words = ind_words[ind]
        word = words[int(wp * len(words))]
        sur = _SURNAMES[s]
        if st == 0:
            base = f"{word} {sur}"
        elif st == 1:
            base = f"{_GENERIC[g]} {sur}"
        elif st == 2:
            base = f"{sur} & Fils"
        elif st == 3:
            base = f"{word} de {city_names[rg][ci]}"
        else:
            base = f"{sur} {word}"
        account_names.append(f"{base} {lg}" if lg else base)

    # --- money -----------------------------------------------------------------------
    # yearly potential for our offer grows with size (about 1.5 kEUR per employee)
    potential = np.exp(np.log(1500.0) + 0.95 * size + rng.normal(0.0, 0.7, n))
    share = np.clip(rng.beta(2.0, 3.0, n), 0.02, 0.95)  # our share of wallet at customers
    revenue = np.where(customer, potential * share * np.exp(rng.normal(0.0, 0.5, n)), 0.0)
    lapsed = customer & (rng.random(n) < 0.03)  # customers who bought nothing this year
    revenue[lapsed] = 0.0
    revenue = np.round(revenue, -2)
    potential = np.maximum(np.round(potential, -3), 1000.0)
    potential = np.where(customer, np.maximum(potential, np.round(revenue * 1.1, -3)), potential)
    potential_blank = rng.random(n) < np.where(customer, 0.03, 0.10)
    potential[potential_blank] = np.nan

    # --- territories and contacts ----------------------------------------------------
    region_reps = [[k for k, rep in enumerate(_REP_NAMES) if _REG_NAMES[r] in _REPS[rep]]
                   for r in range(len(_REG_NAMES))]
    pick = rng.random(n)
    rep = np.empty(n, dtype=np.int64)
    for r, reps in enumerate(region_reps):
        m = region == r
        rep[m] = np.asarray(reps)[(pick[m] * len(reps)).astype(np.int64)]
    rep_blank = ~customer & (rng.random(n) < 0.12)
    days_ago = np.where(customer, rng.exponential(60.0, n), rng.exponential(240.0, n))
    days_ago = np.minimum(days_ago.astype(np.int64), 1500)
    contact_blank = np.where(customer, rng.random(n) < 0.02, rng.random(n) < 0.40)
    as_of64 = np.datetime64(as_of, "D")
    last_contact = (as_of64 - days_ago.astype("timedelta64[D]")).astype("datetime64[ns]")
    last_contact[contact_blank] = np.datetime64("NaT")

    # --- needs -----------------------------------------------------------------------
    k = len(names)
    means = _profile_matrix(names, rng) if k else np.zeros((5, 0))
    needs = means[profile] + rng.normal(0.0, 0.5, (n, k))
    needs = np.clip(np.rint(needs), 1, 5)
    # who has needs: most customers fully, some partly; most prospects none
    u = rng.random(n)
    full = np.where(customer, u < 0.72, u < 0.06)
    partial = np.where(customer, (u >= 0.72) & (u < 0.90), (u >= 0.06) & (u < 0.18))
    missing = np.ones((n, k), dtype=bool)
    missing[full] = False
    if k:
        drop = rng.random((n, k)) < 0.45
        missing[partial] = drop[partial]
    needs[missing] = np.nan

    # --- blanks in descriptive fields ------------------------------------------------
    industry_blank = rng.random(n) < 0.02
    employees_blank = rng.random(n) < np.where(customer, 0.02, 0.07)
    city_blank = rng.random(n) < 0.02

    width = max(6, len(str(n)))
    ids = _id_strings("ACC-", np.arange(1, n + 1), width)
    industries = np.array(_IND_NAMES, dtype=object)[industry]
    industries[industry_blank] = None
    regions = np.array(_REG_NAMES, dtype=object)[region]
    flat_cities = np.array([ci for cities in city_names for ci in cities], dtype=object)
    offsets = np.cumsum([0] + [len(ci) for ci in city_names])[:-1]
    cities = flat_cities[offsets[region] + city_idx]
    cities[city_blank] = None
    owners = np.array(_REP_NAMES, dtype=object)[rep]
    owners[rep_blank] = None
    emp = pd.array(employees, dtype="Int64")
    emp[employees_blank] = pd.NA

    cols = c.ACCOUNT_COLUMNS
    accounts = pd.DataFrame({
        cols[0]: pd.array(ids, dtype="str"),
        cols[1]: pd.array(account_names, dtype="str"),
        cols[2]: pd.array(np.where(customer, c.STATUSES[0], c.STATUSES[1]), dtype="str"),
        cols[3]: pd.array(industries, dtype="str"),
        cols[4]: pd.array(regions, dtype="str"),
        cols[5]: pd.array(cities, dtype="str"),
        cols[6]: emp,
        cols[7]: pd.array(owners, dtype="str"),
        cols[8]: revenue.astype("float64"),
        cols[9]: potential.astype("float64"),
        cols[10]: pd.Series(last_contact, dtype="datetime64[ns]"),
    })
    for j, name in enumerate(names):
        col = needs[:, j]
        arr = pd.array(np.where(np.isnan(col), 0, col).astype(np.int64), dtype="Int64")
        arr[np.isnan(col)] = pd.NA
        accounts[c.need_column(name)] = arr

    # --- field feedback ----------------------------------------------------------------
    has_fb = rng.random(n) < np.where(customer, 0.65, 0.16)
    meetings = np.where(has_fb, 1 + _choice(rng, n, [0.5, 0.3, 0.2]), 0)
    acc = np.repeat(np.arange(n), meetings)
    m = len(acc)
    fb_days = np.minimum(days_ago[acc] + rng.integers(0, 365, m), 3 * 365)
    # meetings happen on or before the last contact
    fb_date = (as_of64 - fb_days.astype("timedelta64[D]")).astype("datetime64[ns]")
    same_rep = rng.random(m) < 0.85
    fb_rep = np.where(same_rep & ~rep_blank[acc], rep[acc], rng.integers(0, len(_REP_NAMES), m))
    if k:
        # main need: the profile's top need most of the time, else a strong one
        prof_means = means[profile[acc]] + rng.normal(0.0, 0.6, (m, k))
        main = np.argmax(prof_means, axis=1)
        off = rng.random(m) < 0.1
        main[off] = rng.integers(0, k, int(off.sum()))
        main_need = np.array(names, dtype=object)[main]
    else:
        main = np.zeros(m, dtype=np.int64)
        main_need = np.full(m, None, dtype=object)
    # each account has its own relationship level; meetings vary a little around it
    base_rel = np.where(customer, rng.normal(3.7, 0.8, n), rng.normal(2.2, 0.7, n))
    rel = base_rel[acc] + rng.normal(0.0, 0.45, m)
    relationship = np.clip(np.rint(rel), 1, 5).astype(np.int64)
    pot_rank = np.nan_to_num(np.log(np.where(np.isnan(potential), 1000.0, potential)))[acc]
    intent_score = 0.25 * (pot_rank - 10.0) + 0.4 * (relationship - 3) + rng.normal(0, 0.8, m)
    intent = np.where(intent_score > 0.6, 2, np.where(intent_score > -0.5, 1, 0))
    buying_intent = _INTENTS[intent].astype(object)
    competitor = _COMPETITORS[_choice(rng, m, np.ones(len(_COMPETITORS)))].astype(object)
    competitor[rng.random(m) < 0.35] = None
    note_pick = rng.random(m)
    generic_note = rng.random(m) < 0.3
    notes = []
    for nm, p, g in zip(main_need.tolist(), note_pick.tolist(), generic_note.tolist()):
        options = _NOTES_BY_NEED.get(nm) if (nm is not None and not g) else None
        if not options:
            options = _GENERIC_NOTES
        notes.append(options[int(p * len(options))])
    notes_arr = np.array(notes, dtype=object)
    notes_arr[rng.random(m) < 0.1] = None

    fcols = c.FEEDBACK_COLUMNS
    feedback = pd.DataFrame({
        fcols[0]: pd.array(np.array(ids, dtype=object)[acc], dtype="str"),
        fcols[1]: pd.Series(fb_date, dtype="datetime64[ns]"),
        fcols[2]: pd.array(np.array(_REP_NAMES, dtype=object)[fb_rep], dtype="str"),
        fcols[3]: pd.array(main_need, dtype="str"),
        fcols[4]: pd.array(relationship, dtype="Int64"),
        fcols[5]: pd.array(buying_intent, dtype="str"),
        fcols[6]: pd.array(competitor, dtype="str"),
        fcols[7]: pd.array(notes_arr, dtype="str"),
    })
    feedback = feedback.sort_values([fcols[0], fcols[1]], kind="stable").reset_index(drop=True)
    return accounts, feedback

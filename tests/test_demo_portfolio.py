"""The demo portfolio: contract columns, realistic proportions, a real structure."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from maillon.engine import contract as c
from maillon.workbook_templates.defaults import default_expectations
from maillon.workbook_templates.demo_portfolio import (PROFILES, generate_portfolio,
                                                       hidden_profiles)

AS_OF = "2026-06-01"
NEEDS = [c.need_column(e) for e in default_expectations()["Expectation"]]


@pytest.fixture(scope="module")
def portfolio():
    return generate_portfolio(20_000, seed=7, as_of=AS_OF)


def test_columns_and_dtypes(portfolio):
    accounts, feedback = portfolio
    assert list(accounts.columns) == list(c.ACCOUNT_COLUMNS) + NEEDS
    assert list(feedback.columns) == list(c.FEEDBACK_COLUMNS)
    assert pd.api.types.is_datetime64_any_dtype(accounts["Last contact"])
    assert pd.api.types.is_datetime64_any_dtype(feedback["Date"])
    for col in ("Revenue 12m", "Potential"):
        assert accounts[col].dtype == "float64"
    for col in ["Employees", *NEEDS]:
        assert accounts[col].dtype == "Int64"
    assert feedback["Relationship"].dtype == "Int64"
    for col in ("Account ID", "Account name", "Status", "Industry", "Region", "City",
                "Sales owner"):
        assert pd.api.types.is_string_dtype(accounts[col])


def test_ids_are_unique_and_required_fields_filled(portfolio):
    accounts, feedback = portfolio
    assert accounts["Account ID"].is_unique
    assert accounts["Account ID"].str.fullmatch(r"ACC-\d{6}").all()
    assert accounts["Account name"].notna().all()
    assert accounts["Status"].isin(c.STATUSES).all()
    assert feedback["Account ID"].isin(accounts["Account ID"]).all()


def test_proportions(portfolio):
    accounts, feedback = portfolio
    customer = accounts["Status"].eq("Customer")
    assert 0.35 <= customer.mean() <= 0.40
    assert (accounts.loc[~customer, "Revenue 12m"] == 0).all()
    assert (accounts.loc[customer, "Revenue 12m"] > 0).mean() > 0.9
    assert accounts["Revenue 12m"].ge(0).all()
    pot = accounts["Potential"]
    assert 0.02 < pot.isna().mean() < 0.15 and pot.dropna().gt(0).all()
    assert accounts["Employees"].dropna().ge(1).all()
    assert 6 <= accounts["Sales owner"].nunique() <= 8
    assert accounts["Industry"].nunique() >= 10 and accounts["Region"].nunique() >= 10
    assert accounts["Last contact"].max() <= pd.Timestamp(AS_OF)
    # needs: most prospects have none, some customers are partial
    has_need = accounts[NEEDS].notna()
    assert (~has_need.any(axis=1))[~customer].mean() > 0.75
    partial = has_need.any(axis=1) & ~has_need.all(axis=1)
    assert 0.05 < partial[customer].mean() < 0.3
    values = accounts[NEEDS].stack().dropna().astype(int)
    assert values.between(1, 5).all()
    # field feedback on about a third of the accounts, 1-3 meetings each
    covered = feedback["Account ID"].nunique() / len(accounts)
    assert 0.28 <= covered <= 0.40
    per_account = feedback.groupby("Account ID").size()
    assert per_account.between(1, 3).all() and per_account.max() == 3
    assert feedback["Buying intent"].isin(c.BUYING_INTENTS).all()
    assert feedback["Relationship"].between(1, 5).all()
    assert feedback["Main need"].isin(default_expectations()["Expectation"]).all()
    assert feedback["Date"].max() <= pd.Timestamp(AS_OF)


def test_revenue_is_long_tailed_so_abc_means_something(portfolio):
    accounts, _ = portfolio
    revenue = accounts.loc[accounts["Revenue 12m"] > 0, "Revenue 12m"].sort_values(ascending=False)
    above = revenue.cumsum().shift(fill_value=0) / revenue.sum()
    share_a = (above < 0.80).mean()
    assert 0.12 <= share_a <= 0.40  # a minority of customers makes 80 % of revenue
    # potential grows with size
    both = accounts[["Employees", "Potential"]].dropna().astype(float)
    assert np.corrcoef(np.log(both["Employees"]), np.log(both["Potential"]))[0, 1] > 0.6


def test_needs_cluster_into_the_hidden_profiles():
    accounts, _ = generate_portfolio(2000, seed=7, as_of=AS_OF)
    profile = hidden_profiles(2000, seed=7)
    assert len(profile) == len(accounts) and set(profile) == set(range(len(PROFILES)))
    X = accounts[NEEDS].astype("float64").to_numpy()
    full = ~np.isnan(X).any(axis=1)
    assert full.sum() > 300
    labels = KMeans(len(PROFILES), n_init=10, random_state=0).fit_predict(X[full])
    assert adjusted_rand_score(profile[full], labels) >= 0.6


def test_profiles_follow_industry_and_feedback_follows_profiles(portfolio):
    accounts, feedback = portfolio
    profile = hidden_profiles(len(accounts), seed=7)
    names = list(PROFILES)
    table = pd.crosstab(accounts["Industry"], profile, normalize="index")
    assert names[int(table.loc["Automobile"].idxmax())] == "Just-in-time producers"
    assert names[int(table.loc["Aéronautique"].idxmax())] == "Engineering partners"
    # size differs by profile (made-to-measure workshops are small)
    size = accounts["Employees"].astype("float64").groupby(profile).median()
    assert size.idxmin() == names.index("Made-to-measure workshops")
    # the main need heard in meetings is mostly the profile's top need
    top_need = {i: max(PROFILES[n], key=PROFILES[n].get) for i, n in enumerate(names)}
    by_id = pd.Series(profile, index=accounts["Account ID"])
    expected = by_id.loc[feedback["Account ID"]].map(top_need).to_numpy()
    assert (feedback["Main need"].to_numpy() == expected).mean() > 0.6


def test_repeatable_and_seeded():
    a1, f1 = generate_portfolio(500, seed=3, as_of=AS_OF)
    a2, f2 = generate_portfolio(500, seed=3, as_of=AS_OF)
    pd.testing.assert_frame_equal(a1, a2)
    pd.testing.assert_frame_equal(f1, f2)
    a3, _ = generate_portfolio(500, seed=4, as_of=AS_OF)
    assert not a1["Revenue 12m"].equals(a3["Revenue 12m"])


def test_custom_expectations_give_their_need_columns():
    expectations = pd.DataFrame({"Expectation": ["Speed", "Quality", "Warranty"]})
    accounts, feedback = generate_portfolio(300, expectations=expectations, seed=1, as_of=AS_OF)
    assert list(accounts.columns[-3:]) == ["Need: Speed", "Need: Quality", "Need: Warranty"]
    assert feedback["Main need"].isin(["Speed", "Quality", "Warranty"]).all()


def test_large_ids_stay_unique():
    accounts, _ = generate_portfolio(1_048_575, seed=7, as_of=AS_OF)
    assert len(accounts) == 1_048_575 and accounts["Account ID"].is_unique
    assert accounts["Account ID"].iloc[-1] == "ACC-1048575"


@pytest.mark.parametrize("n, error", [(0, ValueError), (1_048_576, ValueError),
                                      (2.5, TypeError), (True, TypeError)])
def test_bad_sizes(n, error):
    with pytest.raises(error, match="n_accounts"):
        generate_portfolio(n)


def test_expectations_need_a_name_column():
    with pytest.raises(ValueError, match="expectations"):
        generate_portfolio(10, expectations=pd.DataFrame({"Name": ["x"]}))

"""The reference figures of the customer-value cross-check (Tests/ModelTests/CustomerValueCrossCheckTests.swift):
lifetimes' BetaGeoFitter and GammaGammaFitter on the CDNOW data of Tests/Data/cdnow, printed as one JSON document.

- "summary": the published weekly summary at 1997-09-30 (lifetimes' load_cdnow_summary_data_with_monetary_value);
  predictions over 52 weeks, CLV over 12 months of 4.345 weeks at 1% a month (freq="W").
- "transactions": CDNOW_sample.txt summarised by lifetimes' summary_data_from_transaction_data with its defaults
  (days, purchases of a day aggregated, monetary = mean of repeat days) at 1997-09-30 — what `cx value` does with
  a book — predictions over 365 days, CLV over 12 months of 30 days at 1% a month (freq="D").
"""
import json
import sys

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

data = sys.argv[1]


def fitted(summary, horizon, months, freq):
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    ggf.fit(repeat["frequency"], repeat["monetary_value"])
    f, r, t, m = summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"]
    columns = {
        "frequency": f, "recency": r, "t": t, "monetary": m,
        "expected_purchases": bgf.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t),
        "p_alive": bgf.conditional_probability_alive(f, r, t),
        "expected_spend": ggf.conditional_expected_average_profit(f, m),
        "clv": ggf.customer_lifetime_value(bgf, f, r, t, m, time=months, discount_rate=0.01, freq=freq),
    }
    columns = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    return {
        "bgnbd": {k: float(v) for k, v in bgf.params_.items()},
        "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
        "customers": [
            dict(id=str(customer), **{k: float(v[position]) for k, v in columns.items()})
            for position, customer in enumerate(summary.index)
        ],
    }


weekly = pd.read_csv(f"{data}/cdnow_customers_summary_with_transactions.csv")
weekly = weekly.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"}).set_index("ID")

raw = pd.read_csv(f"{data}/CDNOW_sample.txt", sep=r"\s+", header=None, names=["original", "id", "date", "cds", "amount"])
raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
daily = summary_data_from_transaction_data(
    raw, "id", "date", monetary_value_col="amount", observation_period_end="1997-09-30")

print(json.dumps({
    "summary": fitted(weekly, 52, 12, "W"),
    "transactions": fitted(daily, 365, 12, "D"),
}))

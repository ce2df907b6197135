"""compare_to_best ranks every model once; its tests equal pairwise DeLong tests."""

from __future__ import annotations

import numpy as np

from scorelab.evaluate.compare import compare_to_best, delong_test


def test_compare_to_best_equals_each_pairwise_delong_test():
    rng = np.random.default_rng(4)
    n = 3000
    y = (rng.random(n) < 0.2).astype(int)
    preds = {f"m{k}": np.clip(0.2 + (0.05 + 0.03 * k) * (y - 0.2) + rng.normal(0, 0.1, n),
                              0, 1) for k in range(5)}
    preds["tied"] = np.round(preds["m1"], 1)  # ties inside the ranks
    table = compare_to_best(y, preds).set_index("model")
    best = table.index[0]
    for name in preds:
        if name != best:
            assert table.loc[name, "p_value"] == delong_test(y, preds[name],
                                                             preds[best])["p_value"]

"""How many seeds a comparison needs: the sample size at which the test it uses would detect the
observed difference (or `--min-effect`, in the metric's units) 80 % of the time at α = 0.05.

From the observed spread, so it is itself an estimate: with 3 seeds the spread is uncertain, and
the number says "about", not "exactly". The power is the t-test's: the one-sample form on the
per-seed differences for a paired design, the two-sample form (seeds per group) otherwise.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from .comparison import pooled_std

POWER = 0.8
ALPHA = 0.05
# Beyond this the answer is "more seeds than anyone will run": the estimate is not worth a number.
MOST_SEEDS = 1000


def seeds_needed(group: pd.Series, baseline: pd.Series, paired: bool, min_effect: float | None) -> float:
    """Seeds per group (pairs when paired) for 80 % power, at least 2; NaN when there is no spread
    to go by, inf when the effect looked for is zero or more than MOST_SEEDS would be needed."""
    if paired:
        differences = (group.reindex(baseline.index) - baseline).to_numpy(dtype=float)
        spread, effect = np.std(differences, ddof=1), float(np.mean(differences))
    else:
        values, base = group.to_numpy(dtype=float), baseline.to_numpy(dtype=float)
        spread = pooled_std(values, base)
        effect = float(np.mean(values) - np.mean(base))
    effect = abs(min_effect if min_effect is not None else effect)
    if not spread > 0:
        return math.nan
    if effect == 0:
        return math.inf
    sizes = np.arange(2, MOST_SEEDS + 1)
    reached = np.flatnonzero(t_test_power(effect / spread, sizes, paired) >= POWER)
    return float(sizes[reached[0]]) if len(reached) else math.inf


def t_test_power(effect_size: float, sizes: np.ndarray, paired: bool) -> np.ndarray:
    """The two-sided t-test's power at each sample size (pairs, or seeds per group), from the
    noncentral t distribution. statsmodels' TTestPower returns NaN for large effects (scipy's
    noncentral t is NaN far in its lower tail, where the probability is 0 to double precision),
    which would read as "no number of seeds is enough": that tail is taken as the 0 it is."""
    dof = sizes - 1 if paired else 2 * sizes - 2
    noncentrality = effect_size * np.sqrt(sizes if paired else sizes / 2)
    critical = stats.t.ppf(1 - ALPHA / 2, dof)
    upper = stats.nct.sf(critical, dof, noncentrality)
    lower = np.nan_to_num(stats.nct.cdf(-critical, dof, noncentrality), nan=0.0)
    return upper + lower

"""Almost Stochastic Order (Dror et al., 2019; Ulmer et al., 2022, the `deepsig` package): how far a
group's score distribution is from dominating the baseline's, ε_min in [0, 1]. 0: every quantile
of the group is better; 0.5: neither dominates; ε_min < 0.2 is the threshold its authors suggest.

Optional (`report.py --aso`): deepsig is an extra (`pip install -e ".[aso]"`), and its bootstrap
takes seconds per comparison.
"""

import pandas as pd

from .runs import ReportError

# deepsig's own defaults; the seed makes the report the same on every run.
ASO_SEED = 0
CONFIDENCE = 0.95


def check_aso(baseline: str | None) -> None:
    """--aso compares groups with the baseline, with deepsig: both must be there."""
    if baseline is None:
        raise ReportError('--aso compares each group with the baseline: give --baseline, e.g. "model=linear"')
    try:
        import deepsig  # noqa: F401
    except ImportError:
        raise ReportError('--aso needs the deepsig package: pip install -e ".[aso]"') from None


def aso_eps_min(group: pd.Series, baseline: pd.Series, direction: str, comparisons: int) -> float:
    """ε_min of "the group is better than the baseline", with deepsig's correction for `comparisons`."""
    from deepsig import aso

    sign = -1.0 if direction == "lower" else 1.0  # ASO asks whether scores_a are the larger
    return float(
        aso(
            (sign * group.to_numpy(dtype=float)).tolist(),
            (sign * baseline.to_numpy(dtype=float)).tolist(),
            confidence_level=CONFIDENCE,
            num_comparisons=comparisons,
            seed=ASO_SEED,
            show_progress=False,
        )
    )

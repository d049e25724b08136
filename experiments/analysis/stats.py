"""The statistics of the claims: intervals over training seeds and over held-out sequences.
claims.py's docstring names each convention (its `evidence` column)."""
import math

from scipy.stats import t as student_t

def t975(df):
    """the 97.5% quantile of Student's t with floor(df) degrees of freedom (at least 1)"""
    return float(student_t.ppf(0.975, max(math.floor(df), 1)))


def mean_var(xs):
    m = sum(xs) / len(xs)
    return m, (sum((x - m) ** 2 for x in xs) / (len(xs) - 1) if len(xs) > 1 else 0.0)


def mean_se(xs):
    """the mean and its standard error (nan for a single value)"""
    m, v = mean_var(xs)
    return m, math.sqrt(v / len(xs)) if len(xs) > 1 else float("nan")


def compare(a, b, baseline, same_models=False):
    """a - b from {seed: (mean, sem)}: (effect, low, high, evidence, seeds_a, seeds_b)"""
    if same_models and len(a) >= 2:  # one paired difference per seed
        diffs = [a[s][0] - b[s][0] for s in sorted(a)]
        m, v = mean_var(diffs)
        h = t975(len(diffs) - 1) * math.sqrt(v / len(diffs))
        return m, m - h, m + h, "seeds_paired", len(a), len(b)
    if baseline:  # b is the same on every seed's sequences
        diffs = [a[s][0] - b[s][0] for s in sorted(a)]
        if len(diffs) >= 2:
            m, v = mean_var(diffs)
            h = t975(len(diffs) - 1) * math.sqrt(v / len(diffs))
            return m, m - h, m + h, "seeds_vs_baseline", len(a), "baseline"
        s = next(iter(a))
        h = 1.96 * math.hypot(a[s][1], b[s][1])
        return diffs[0], diffs[0] - h, diffs[0] + h, "one_model", 1, "baseline"
    (ma, va), (mb, vb) = mean_var([v[0] for v in a.values()]), mean_var([v[0] for v in b.values()])
    na, nb = len(a), len(b)
    if na >= 2 and nb >= 2:
        se2 = va / na + vb / nb
        df = se2 ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1)) if se2 > 0 else 1
        h = t975(df) * math.sqrt(se2)
        return ma - mb, ma - mb - h, ma - mb + h, "seeds", na, nb
    # one model on at least one side: sequence-level SEs, plus the other arm's spread over seeds
    sa2 = sum(v[1] ** 2 for v in a.values()) / na ** 2 + (va if na >= 2 else 0.0)
    sb2 = sum(v[1] ** 2 for v in b.values()) / nb ** 2 + (vb if nb >= 2 else 0.0)
    h = 1.96 * math.sqrt(sa2 + sb2)
    return ma - mb, ma - mb - h, ma - mb + h, "one_model", na, nb

"""A setting against its baseline, over seeds: the mean difference in error with its 95 %
interval, and a verdict no stronger than that interval.

Where both settings ran the same seeds, the runs pair up by seed (a paired t interval on the
per-seed differences: the seed's share of the spread cancels); otherwise Welch's t interval. The
rule: the interval below 0, the setting has the lower error (`lower`); above 0, the higher
(`higher`); across 0, or with too few runs for an interval, `undecided` at this size and number
of seeds.
"""

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

CONFIDENCE = 0.95


@dataclass
class Difference:
    """setting minus baseline, in error points (%); low and high bound the 95 % interval."""

    mean: float
    low: float | None
    high: float | None
    n: int
    paired: bool

    @property
    def verdict(self) -> str:
        if self.low is None or self.high is None:
            return "undecided"
        if self.high < 0:
            return "lower"
        if self.low > 0:
            return "higher"
        return "undecided"

    def shown(self) -> str:
        """`-0.42 [-0.80, -0.04]`, or the difference alone where there is no interval."""
        if self.low is None or self.high is None:
            return f"{self.mean:+.2f} (one seed: no interval)"
        return f"{self.mean:+.2f} [{self.low:+.2f}, {self.high:+.2f}]"


def t_quantile(df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + CONFIDENCE / 2, df))


def paired(setting: dict[int, float], baseline: dict[int, float]) -> Difference | None:
    """The difference over the seeds both ran (seed -> error); None without a shared seed."""
    seeds = sorted(setting.keys() & baseline.keys())
    if not seeds:
        return None
    diffs = [setting[s] - baseline[s] for s in seeds]
    mean = statistics.mean(diffs)
    if len(diffs) < 2:
        return Difference(mean, None, None, len(diffs), True)
    half = t_quantile(len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
    return Difference(mean, mean - half, mean + half, len(diffs), True)


def welch(setting: list[float], baseline: list[float]) -> Difference | None:
    """The difference of two independent means; None where a side has no run."""
    if not setting or not baseline:
        return None
    mean = statistics.mean(setting) - statistics.mean(baseline)
    n = min(len(setting), len(baseline))
    if len(setting) < 2 or len(baseline) < 2:
        return Difference(mean, None, None, n, False)
    va, vb = statistics.variance(setting) / len(setting), statistics.variance(baseline) / len(baseline)
    se = math.sqrt(va + vb)
    if se == 0:
        return Difference(mean, mean, mean, n, False)
    # Welch-Satterthwaite degrees of freedom
    df = (va + vb) ** 2 / (va**2 / (len(setting) - 1) + vb**2 / (len(baseline) - 1))
    half = t_quantile(df) * se
    return Difference(mean, mean - half, mean + half, n, False)


def compare(setting: dict[int, float], baseline: dict[int, float]) -> Difference | None:
    """Paired where both ran at least two seeds in common, Welch otherwise."""
    if len(setting.keys() & baseline.keys()) >= 2:
        return paired(setting, baseline)
    return welch(list(setting.values()), list(baseline.values()))


# how the table names a measure that is not a validation budget
WHERE = {"test": "test set", "corrupted": "corrupted test set, every corruption and severity"}

# the training budgets at which a claim's verdict is given, where the runs validated then
BUDGETS = (5, 20, 60)
MODES = ("goodness", "head")


def measures(run: dict) -> dict[str, float]:
    """What a run can be compared on: `val@E/<mode>` at each validated epoch E in its
    val_history, `val/<mode>` (the end of training), `test/<mode>` and, for a run whose
    checkpoint was tested on corrupted images, `corrupted/<mode>` (its error over every
    corruption and severity: tables.attach_corrupted)."""
    out: dict[str, float] = {}
    for entry in run.get("val_history") or []:
        for mode in MODES:
            value = entry.get(f"val/error_{mode}")
            if value is not None:
                out[f"val@{entry['epoch']}/{mode}"] = float(value)
    for split in ("val", "test", "corrupted"):
        for mode in MODES:
            value = run.get(f"{split}/error_{mode}")
            if value is not None:
                out[f"{split}/{mode}"] = float(value)
    return out


def measure_rows(runs: list[dict]) -> list[str]:
    """The measures the runs are shown and compared on, in order: `val@E` at each budget they
    validated at, then `val` (the end of training), `test` and `corrupted` where a run has it."""
    keys = {k for run in runs for k in measures(run)}
    epochs = sorted({int(k.split("@")[1].split("/")[0]) for k in keys if k.startswith("val@")})
    budgets = [e for e in epochs if e in BUDGETS]
    corrupted = ["corrupted"] if any(k.startswith("corrupted/") for k in keys) else []
    return [*(f"val@{e}" for e in budgets), "val", "test", *corrupted]


def comparison_table(groups: dict[str, list[dict]], baseline: str | Mapping[str, str]) -> str:
    """Markdown: each setting against its baseline, per measure and inference mode, the mean
    difference (setting - baseline, error points) with its 95 % interval and the verdict.
    `groups` maps a setting's label to its completed runs (each with its `seed`); `baseline` is
    one setting's label, or each setting's own baseline (a column says which, where they differ)."""
    bases = baseline if isinstance(baseline, Mapping) else {label: baseline for label in groups}
    several = len(set(bases.values())) > 1
    lines = [
        "| setting |" + (" baseline |" if several else "") + " measured on | seeds "
        "| goodness: difference [95 % interval] | verdict | head: difference [95 % interval] | verdict |",
        "| --- " * (7 + several) + "|",
    ]
    rows = measure_rows([run for runs in groups.values() for run in runs])
    ends = {r.get("epochs_completed") for runs in groups.values() for r in runs}
    end = (
        f"validation, end (epoch {ends.pop()})" if len(ends) == 1 and None not in ends else "validation, end"
    )
    # each setting's measures once, whether it is compared or a baseline (of one or of several)
    measured = {
        label: [measures(r) | {"seed": r.get("seed")} for r in runs] for label, runs in groups.items()
    }
    for label, mine in measured.items():
        if bases[label] == label:
            continue
        base = measured[bases[label]]
        for row in rows:
            cells, seeds = [], ""
            for mode in MODES:
                key = f"{row}/{mode}"
                a = {m["seed"]: m[key] for m in mine if key in m}
                b = {m["seed"]: m[key] for m in base if key in m}
                diff = compare(a, b)
                if diff is None:
                    cells += ["n/a", "n/a"]
                    continue
                seeds = seeds or f"{diff.n}{' paired' if diff.paired else ''}"
                cells += [
                    diff.shown(),
                    f"**{diff.verdict}**" if diff.verdict != "undecided" else diff.verdict,
                ]
            if not seeds:
                continue  # nothing to compare here: no validation split, or test=false
            where = WHERE.get(row) or row.replace("val@", "validation, epoch ")
            where = end if where == "val" else where
            against = f" {bases[label]} |" if several else ""
            lines.append(f"| {label} |{against} {where} | {seeds} | {' | '.join(cells)} |")
    return "\n".join(lines)

#!/usr/bin/python3
"""Generates a 30-day imported history and the window figures agentdrift must serve for it, computed independently
with statsmodels (Wilson interval) and NumPy (quantiles, means). Run with Debian's python3-statsmodels:

    /usr/bin/python3 scripts/gen-window-fixtures.py test/fixtures/windows

Writes history-30d.json (the import file, format agentdrift-history/1) and expected.json (per window:
attempts, passes, infra errors, pass rate, Wilson bounds at 0.95 and 0.80, duration quantiles, means).
"""
import json
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
from statsmodels.stats.proportion import proportion_confint

out = sys.argv[1]
rng = np.random.default_rng(20261122)
tasks = [f"task-{i:02d}" for i in range(40)]
p_task = rng.beta(2.2, 1.8, size=len(tasks))
start = datetime(2026, 10, 1, 3, 0, tzinfo=timezone.utc)
outcomes_other = ["unresolved", "agent_error", "timeout"]

runs = []
attempts_all = []  # (ended_at, attempt)
for day in range(30):
    run_start = start + timedelta(days=day)
    attempts = []
    t = run_start
    for i, task in enumerate(tasks):
        dur_ms = int(rng.gamma(3.0, 60_000))
        began = t
        t = t + timedelta(milliseconds=dur_ms + 1000)
        u = rng.random()
        if u < 0.04:
            outcome = "infra_error"
        elif rng.random() < p_task[i] * (0.8 if day >= 25 else 1.0):
            outcome = "resolved"
        else:
            outcome = outcomes_other[int(rng.integers(0, 3))]
        a = {
            "taskId": task,
            "sampleIndex": 0,
            "outcome": outcome,
            "inputTokens": int(rng.integers(1000, 200000)),
            "outputTokens": int(rng.integers(100, 20000)),
            "cacheReadTokens": int(rng.integers(0, 500000)),
            "cacheCreationTokens": int(rng.integers(0, 50000)),
            "costUsd": round(float(rng.gamma(2.0, 0.4)), 6),
            "turns": int(rng.integers(1, 80)),
            "toolCalls": int(rng.integers(0, 120)),
            "agentDurationMs": None if outcome == "infra_error" else dur_ms,
            "startedAt": began.isoformat().replace("+00:00", "Z"),
            "endedAt": t.isoformat().replace("+00:00", "Z"),
        }
        attempts.append(a)
        attempts_all.append((t, a))
    runs.append({
        "startedAt": run_start.isoformat().replace("+00:00", "Z"),
        "endedAt": (t + timedelta(seconds=5)).isoformat().replace("+00:00", "Z"),
        "state": "completed",
        "agentVersion": "2.1.3" if day < 20 else "2.1.4",
        "modelId": "claude-sonnet-test",
        "attempts": attempts,
    })

end = max(datetime.fromisoformat(r["endedAt"].replace("Z", "+00:00")) for r in runs)


def figures(days, confidence):
    lo = end - timedelta(days=days)
    sel = [a for (t, a) in attempts_all if lo < t <= end]
    counted = [a for a in sel if a["outcome"] != "infra_error"]
    n = len(counted)
    k = sum(1 for a in counted if a["outcome"] == "resolved")
    infra = len(sel) - n
    low, upp = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    durs = np.array([a["agentDurationMs"] / 1000 for a in counted if a["agentDurationMs"] is not None])
    mean = lambda key: float(np.mean([a[key] for a in counted]))
    return {
        "attempts": n,
        "passes": k,
        "infraErrors": infra,
        "passRate": k / n,
        "lower": float(low),
        "upper": float(upp),
        "infraErrorRatio": infra / len(sel),
        "durationP50Seconds": float(np.percentile(durs, 50)),
        "durationP90Seconds": float(np.percentile(durs, 90)),
        "meanCostUsd": mean("costUsd"),
        "meanTurns": mean("turns"),
        "meanToolCalls": mean("toolCalls"),
        "meanTokens": {
            "input": mean("inputTokens"),
            "output": mean("outputTokens"),
            "cache_read": mean("cacheReadTokens"),
            "cache_creation": mean("cacheCreationTokens"),
        },
    }


expected = {
    "windowEnd": end.isoformat().replace("+00:00", "Z"),
    "confidence": {str(c): {w: figures(d, c) for w, d in (("1d", 1), ("7d", 7), ("30d", 30))} for c in (0.95, 0.8)},
    "totals": {
        "attempts": {o: sum(1 for (_, a) in attempts_all if a["outcome"] == o) for o in ["resolved", "unresolved", "agent_error", "timeout", "infra_error"]},
        "costUsd": float(sum(a["costUsd"] for (_, a) in attempts_all)),
        "inputTokens": int(sum(a["inputTokens"] for (_, a) in attempts_all)),
    },
}
json.dump({"format": "agentdrift-history/1", "track": "fixture", "runs": runs}, open(f"{out}/history-30d.json", "w"), indent=0)
json.dump(expected, open(f"{out}/expected.json", "w"), indent=1)
print(f"wrote {len(runs)} runs, {len(attempts_all)} attempts; window end {expected['windowEnd']}")

"""How long the campaign simulator takes: the API's default inputs, a busy campaign, and the worst case (R ≥ 1 at
every cap), each timed a few times. Prints figures; not a test. Run: .venv/bin/python bench/simulation.py"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from fissionmall.simulation import rules, service
from fissionmall.simulation.schemas import SimulationIn

CASES = {
    "defaults (1,000 runs)": SimulationIn(),
    "invite, budget, 30 days": SimulationIn(kind="invite", audience=100_000, seeds=200, share_rate=0.4, conversion=0.1,
                                            reward_fen=500, budget_fen=1_000_000, window_hours=720),
    "R=25 at the caps, 90 days": SimulationIn(kind="share_coupon", audience=10_000_000, seeds=1000, share_rate=1,
                                             friends_per_share=50, conversion=0.5, claims=1000, cycle_hours=1,
                                             window_hours=2160),
    "max runs (20,000)": SimulationIn(runs=20_000),
    "R=25 at the caps, 20,000 runs": SimulationIn(kind="share_coupon", audience=10_000_000, seeds=1000, share_rate=1,
                                                  friends_per_share=50, conversion=0.5, claims=1000, cycle_hours=1,
                                                  window_hours=2160, runs=20_000),
}


def main() -> None:
    table = Table("case", "R", "best of 3 (s)", "caps hit", title="campaign simulator", title_justify="left")
    for name, body in CASES.items():
        best, answer = float("inf"), None
        for _ in range(3):
            started = time.perf_counter()
            answer = service.simulate(body)
            best = min(best, time.perf_counter() - started)
        assert answer is not None
        table.add_row(name, f"{answer.reproduction:.2f}", f"{best:.3f}", str(answer.caps.hit))
    started = time.perf_counter()
    rules.galton_watson(4, 0.2, 20_000, seed=1)
    table.add_row("Galton–Watson i=4 c=0.2, 20,000 runs", "0.80", f"{time.perf_counter() - started:.3f}", "False")
    Console().print(table)


if __name__ == "__main__":
    main()

"""The simulator in its plain Galton–Watson setting against theory: each adopter invites i friends, each adopts with
probability c, R = i·c < 1. Every tolerance is derived from the Monte Carlo standard error of the figure it checks
(four standard errors: a correct model fails one check in about 16,000), and the seeds are fixed, so a pass is
reproducible and a wrong model (a mean off by a few percent) fails."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from typer.testing import CliRunner

from fissionmall.cli import app
from fissionmall.simulation import rules

pytestmark = pytest.mark.backend_free

RUNS = 10_000
Z = 4.0
SETTINGS = [(1, 0.5), (2, 0.3), (3, 0.2), (4, 0.2), (10, 0.05), (5, 0.15)]


@pytest.mark.parametrize(("invites", "conversion"), SETTINGS)
def test_mean_size_and_p_size_1_match_theory(invites: int, conversion: float) -> None:
    answer = rules.galton_watson(invites, conversion, RUNS, seed=20240618 + invites)
    r = invites * conversion
    assert not answer["caps"]["hit"]
    # total progeny T of a subcritical GW process with offspring mean R and variance s2 = i·c·(1−c) (binomial):
    # E[T] = 1/(1−R), Var[T] = s2/(1−R)^3; the mean of RUNS sizes has standard error sqrt(Var[T]/RUNS)
    s2 = invites * conversion * (1 - conversion)
    mean_se = math.sqrt(s2 / (1 - r) ** 3 / RUNS)
    assert abs(answer["mean_size"] - 1 / (1 - r)) <= Z * mean_se, (answer["mean_size"], 1 / (1 - r), mean_se)
    # size 1 = none of the i invited adopts: p = (1−c)^i; a proportion's standard error is sqrt(p(1−p)/RUNS)
    p1 = (1 - conversion) ** invites
    assert abs(answer["p_size_1"] - p1) <= Z * math.sqrt(p1 * (1 - p1) / RUNS)


@pytest.mark.parametrize(("invites", "conversion"), [(2, 0.3), (4, 0.2)])
def test_share_within_one_hop_matches_theory(invites: int, conversion: float) -> None:
    """Adopters at depth ≤ 1 over all adopters, pooled over runs: E[1 + X1] / E[T] = (1 + R)(1 − R). The ratio of
    two means; its standard error by the delta method, from the per-run values of a plain simulation."""
    answer = rules.galton_watson(invites, conversion, RUNS, seed=7)
    r = invites * conversion
    near, total = _plain_runs(invites, conversion, 4000, seed=99, with_first_hop=True)
    ratio = near.sum() / total.sum()
    # delta method: Var(ratio) ≈ Var(near − ratio·total) / (RUNS · E[total]^2), estimated from the plain runs
    se = math.sqrt(np.var(near - ratio * total) / (RUNS * total.mean() ** 2))
    assert abs(answer["share_within_one_hop"] - (1 + r) * (1 - r)) <= Z * se


def _plain_runs(invites: int, conversion: float, runs: int, seed: int,
                with_first_hop: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """An independent implementation, written plainly: a queue of adopters per run, one coin per invited friend."""
    rng = random.Random(seed)
    sizes, near = [], []
    for _ in range(runs):
        queue, size, first_hop = [0], 1, 0
        while queue:
            depth = queue.pop()
            for _friend in range(invites):
                if rng.random() < conversion:
                    size += 1
                    first_hop += depth == 0
                    queue.append(depth + 1)
        sizes.append(size)
        near.append(1 + first_hop)
    return np.array(near, dtype=float), np.array(sizes, dtype=float)


@pytest.mark.parametrize(("invites", "conversion"), [(3, 0.2), (4, 0.2), (10, 0.05)])
def test_size_quantiles_match_an_independent_simulation(invites: int, conversion: float) -> None:
    """Quantiles of a discrete size are compared through the distribution functions: the simulator's p-quantile q
    must satisfy F_plain(q) ≥ p and F_plain(q − 1) ≤ p up to the error of the difference of two empirical CDFs at a
    point, sqrt(p(1−p)(1/N1 + 1/N2)) (each empirical CDF is a proportion)."""
    answer = rules.galton_watson(invites, conversion, RUNS, seed=31)
    plain_runs = 6000
    _, plain = _plain_runs(invites, conversion, plain_runs, seed=17)
    for p, key in ((0.5, "q50"), (0.9, "q90"), (0.99, "q99")):
        q = answer[key]
        tol = Z * math.sqrt(p * (1 - p) * (1 / RUNS + 1 / plain_runs))
        assert (plain <= q).mean() >= p - tol, (key, q, (plain <= q).mean())
        assert (plain <= q - 1).mean() <= p + tol, (key, q, (plain <= q - 1).mean())


def test_the_same_seed_gives_the_same_answer_and_another_seed_another() -> None:
    assert rules.galton_watson(3, 0.2, 2000, seed=5) == rules.galton_watson(3, 0.2, 2000, seed=5)
    assert rules.galton_watson(3, 0.2, 2000, seed=5)["mean_size"] != rules.galton_watson(3, 0.2, 2000, seed=6)[
        "mean_size"]


def test_r_at_least_1_stops_at_the_cascade_cap_and_says_so() -> None:
    answer = rules.galton_watson(4, 0.5, 1000, seed=1, max_cascade=500)
    caps = answer["caps"]
    assert caps["supercritical"] and caps["hit"] and caps["cascade_cap"] == 500
    assert caps["runs_capped_by_cascade"] > 0
    assert answer["q99"] == 500  # no run grows past its cap
    assert answer["theory"]["mean_size"] is None


def test_the_command_line_prints_one_json_object() -> None:
    result = CliRunner().invoke(app, ["simulate", "galton-watson", "--invites", "3", "--conversion", "0.2",
                                      "--runs", "2000", "--seed", "5", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer == json.loads(json.dumps(rules.galton_watson(3, 0.2, 2000, seed=5)))
    assert {"mean_size", "p_size_1", "q50", "q90", "q99", "share_within_one_hop"} <= set(answer)


def test_the_command_line_table_names_the_figures() -> None:
    result = CliRunner().invoke(app, ["simulate", "galton-watson", "--invites", "3", "--conversion", "0.2",
                                      "--runs", "500"])
    assert result.exit_code == 0, result.output
    assert "mean size" in result.stdout and "P(size = 1)" in result.stdout

"""The import contracts in pyproject.toml (run by `lint-imports` in `make lint`) hold, and they bite: one import
added against the layers, to the package's real import graph, breaks the contract and is named in its report."""

from __future__ import annotations

import contextlib
import copy
import io
from functools import cache
from pathlib import Path

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import Contract, ContractCheck

pytestmark = pytest.mark.backend_free

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
CONTRACT_TYPES: dict[str, type[Contract]] = {"layers": LayersContract, "forbidden": ForbiddenContract,
                                             "acyclic_siblings": AcyclicSiblingsContract}


@cache
def real_graph() -> grimp.ImportGraph:
    return grimp.build_graph("fissionmall")


def contract(contract_id: str) -> Contract:
    configuration = read_configuration(str(PYPROJECT))
    options = next(o for o in configuration["contracts_options"] if o["id"] == contract_id)
    return CONTRACT_TYPES[options["type"]](name=options["name"], session_options=configuration["session_options"],
                                           contract_options=options)


def graph_with(importer: str, imported: str) -> grimp.ImportGraph:
    """The real graph plus one import, as if `importer` had a line importing `imported`."""
    graph = copy.deepcopy(real_graph())
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    return graph


def report(checked: Contract, check: ContractCheck) -> str:
    """What lint-imports prints for a broken contract."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        checked.render_broken_contract(check)
    return printed.getvalue()


def report_if_broken(checked: Contract, graph: grimp.ImportGraph) -> str:
    check = checked.check(graph, verbose=False)
    return "" if check.kept else report(checked, check)


@pytest.mark.parametrize("contract_id", ["layers", "core-and-db-know-no-domain", "no-package-cycle"])
def test_every_contract_holds_on_the_package_as_it_is(contract_id: str) -> None:
    checked = contract(contract_id)
    check = checked.check(real_graph(), verbose=False)
    assert check.kept, report(checked, check)


@pytest.mark.parametrize(("contract_id", "importer", "imported", "named"), [
    ("core-and-db-know-no-domain", "fissionmall.core.money", "fissionmall.orders.models",
     "fissionmall.core.money -> fissionmall.orders.models"),
    ("layers", "fissionmall.db.engine", "fissionmall.core.metrics",
     "fissionmall.db is not allowed to import fissionmall.core"),
    ("layers", "fissionmall.core.clock", "fissionmall.composition",
     "fissionmall.core.clock -> fissionmall.composition"),
    ("no-package-cycle", "fissionmall.db.engine", "fissionmall.core.metrics", ".db -> .core"),
    ("layers", "fissionmall.orders.service", "fissionmall.campaigns.groupbuy.service",
     "fissionmall.orders is not allowed to import fissionmall.campaigns"),
    ("no-package-cycle", "fissionmall.coupons.service", "fissionmall.checkout.pricing", ".coupons -> .checkout"),
])
def test_an_import_against_the_layers_breaks_the_contract_and_is_named(contract_id: str, importer: str,
                                                                       imported: str, named: str) -> None:
    checked = contract(contract_id)
    assert named not in report_if_broken(checked, real_graph())
    check = checked.check(graph_with(importer, imported), verbose=False)
    assert not check.kept
    assert named in report(checked, check)

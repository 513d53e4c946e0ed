"""The import layers, checked rather than promised (grimp: import-linter's graph engine).

Contracts: imports point down, ``cli -> smsd -> {modem, store}``, and ``modem`` and ``store``
never import each other; the simulator (``modem.sim``) is used only from the layers above, so
the driver and the codec never import it; the PDU codec does no I/O; no import circles inside
any package (cli, smsd, modem and its pdu and sim, store). Every import counts, deferred or not.
"""

from __future__ import annotations

import grimp
import pytest

LAYERS: list[str | set[str]] = ["cli", "smsd", {"modem", "store"}]
SIMULATOR = "modem.sim"
SIMULATOR_USERS = ("cli", "smsd", SIMULATOR)
CODEC = "modem.pdu"
ACYCLIC = ("cli", "smsd", "modem", "modem.pdu", "modem.sim", "store")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """Every import between the four packages, deferred ones included."""
    return grimp.build_graph("cli", "smsd", "modem", "store", cache_dir=None)


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_imports_point_down(graph: grimp.ImportGraph) -> None:
    """cli -> smsd -> {modem, store}: no import upwards, none between modem and store."""
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS)
    assert not illegal, sorted(
        f"{d.importer} -> {d.imported}: {[r.heads for r in d.routes]}" for d in illegal
    )


def test_only_the_layers_above_use_the_simulator(graph: grimp.ImportGraph) -> None:
    """modem.sim is imported from cli, smsd and itself only: the driver and codec never do."""
    simulator = {m for m in graph.modules if _inside(m, SIMULATOR)}
    importers = {i for m in simulator for i in graph.find_modules_that_directly_import(m)}
    strangers = sorted(i for i in importers if not any(_inside(i, u) for u in SIMULATOR_USERS))
    assert not strangers, strangers


def test_the_codec_does_no_io(graph: grimp.ImportGraph) -> None:
    """modem.pdu reaches neither the driver, the transport nor the simulator, even indirectly."""
    for target in ("modem.modem", "modem.transport", SIMULATOR):
        chain = graph.find_shortest_chain(importer=CODEC, imported=target, as_packages=True)
        assert chain is None, chain


@pytest.mark.parametrize("package", ACYCLIC)
def test_no_import_circles(graph: grimp.ImportGraph, package: str) -> None:
    """No circle among a package's modules: nothing to break."""
    assert graph.nominate_cycle_breakers(package) == set()

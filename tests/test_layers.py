"""The layers run one way (docs/architecture.md, "Layers"): a module imports only its own package
and packages of lower layers, and the package graph has no cycles. Pure AST: nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("streams", "models", "serving", "bench", "feature_repo")

# Lowest first. Packages of one layer do not import each other.
LAYERS: list[list[str]] = [
    ["streams.core"],  # settings, errors, contracts, event types, topics
    ["models"],  # pure ML
    ["streams.kafka", "streams.stores", "streams.infra"],  # plumbing: Kafka edge, stores, local services
    ["streams.sources", "streams.features", "feature_repo"],  # event sources; feature state; Feast definitions
    ["streams.worker", "streams.learner", "streams.trainer", "serving", "streams.demo"],  # services
    ["bench"],  # benchmarks drive services
    ["streams.cli"],  # the command line, on top
]
LAYER_OF = {package: depth for depth, packages in enumerate(LAYERS) for package in packages}
ALIASES = {"streams": "streams.core"}  # the namespace's __init__ (a docstring) sits with the core


def package_of(module: str) -> str | None:
    """The layered package a dotted module belongs to (longest match)."""
    if module in ALIASES:
        return ALIASES[module]
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYER_OF:
            return ".".join(parts[:n])
    return None


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import of our packages, lazy ones included."""
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            found.append((node.lineno, base))
            found += [
                (node.lineno, f"{base}.{alias.name}") for alias in node.names if f"{base}.{alias.name}" in LAYER_OF
            ]
    return [(line, name) for line, name in found if name.split(".")[0] in OURS]


def source_files() -> list[Path]:
    return sorted(p for top in OURS for p in (ROOT / top).rglob("*.py"))


def violations(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        mine = package_of(module_name(path))
        assert mine is not None, f"{path.relative_to(ROOT)} belongs to no layer: add its package to LAYERS"
        for line, target in imports_of(path):
            theirs = package_of(target)
            if theirs is None or theirs == mine:
                continue
            if LAYER_OF[theirs] >= LAYER_OF[mine]:
                found.append(
                    f"{path.relative_to(ROOT)}:{line}: {mine} (layer {LAYER_OF[mine]}) imports "
                    f"{target} ({theirs}, layer {LAYER_OF[theirs]})"
                )
    return found


def package_cycles(files: list[Path]) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for path in files:
        mine = package_of(module_name(path))
        for _, target in imports_of(path):
            theirs = package_of(target)
            if theirs and theirs != mine:
                graph.setdefault(mine, set()).add(theirs)
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_every_import_runs_down_the_layers():
    assert violations(source_files()) == []


def test_no_package_cycles():
    assert package_cycles(source_files()) == []


def test_the_rule_catches_an_upward_import(tmp_path, monkeypatch):
    """A model importing serving, and a service importing another service, are both refused."""
    fake = ROOT / "models" / "_layer_probe.py"
    service = ROOT / "serving" / "_layer_probe.py"
    try:
        fake.write_text("from serving.state import ModelState\n")
        service.write_text("def f():\n    from streams.learner.loop import LearningLoop\n")
        found = violations([fake, service])
        assert len(found) == 2 and "models (layer 1) imports serving.state" in found[0]
        assert "serving (layer 4) imports streams.learner.loop" in found[1]
    finally:
        fake.unlink(missing_ok=True)
        service.unlink(missing_ok=True)


def test_a_cycle_is_found():
    a, b = ROOT / "streams" / "kafka" / "_cycle_probe.py", ROOT / "streams" / "stores" / "_cycle_probe.py"
    try:
        a.write_text("import streams.stores.keys\n")
        b.write_text("import streams.kafka.producer\n")
        assert package_cycles([a, b])
    finally:
        a.unlink(missing_ok=True)
        b.unlink(missing_ok=True)


def test_one_module_polls_kafka():
    """Every consume loop is the ConsumeRunner (streams/kafka/runner.py); Faust's agents aside."""
    pollers = set()
    for path in source_files() + sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("poll", "consume")
                and "consumer" in ast.unparse(node.func.value).lower()
            ):
                pollers.add(str(path.relative_to(ROOT)))
    assert pollers == {"streams/kafka/runner.py"}

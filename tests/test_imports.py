"""The package's import graph has no cycle, counting every import, deferred ones included.

A cycle works only as long as the modules happen to be imported in a lucky order; it also sends
a reader in circles. The graph is read from the source (ast), so no module is imported here.
An import of ``a.b.c`` also imports the packages ``a.b`` and ``a`` (their ``__init__``), so those
count as edges too, except the importing module's own parent packages (always loaded first).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "scratch_ae"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _imports(name: str, path: Path, modules) -> set[str]:
    """Every package module that ``name`` imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    targets = set()
    for t in found:
        if t in modules:
            targets.update(a for a in [*_ancestors(t), t] if a in modules)
    return targets - set(_ancestors(name)) - {name}


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycle():
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = _graph()
    assert "scratch_ae.io" in graph["scratch_ae.cli"]  # the graph does see imports
    graph["scratch_ae.backend"] = graph["scratch_ae.backend"] | {"scratch_ae.train"}
    cycle = _find_cycle(graph)
    assert cycle is not None and "scratch_ae.backend" in cycle


@pytest.mark.parametrize("kernel", ["numba_conv", "numba_elementwise", "numba_math32",
                                    "cupy_kernels"])
def test_layers_never_import_a_kernel_module(kernel):
    graph = _graph()
    importers = [m for m, deps in graph.items()
                 if m.startswith("scratch_ae.layers") and f"scratch_ae.kernels.{kernel}" in deps]
    assert importers == []

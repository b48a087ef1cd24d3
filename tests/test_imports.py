"""The package's import graph: no cycle, the levels of docs/READING.md, no import inside a
function but where that drawing allows one, and every class exported and registered.

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


READING = Path(__file__).resolve().parents[1] / "docs" / "READING.md"


def _levels() -> dict[str, int]:
    """``{module group: level}`` from the drawing in docs/READING.md (``layers/*`` is a group)."""
    text = READING.read_text(encoding="utf-8")
    section = text[text.index("## How the modules depend on each other"):]
    block = section[section.index("```\n") + 4:]
    block = block[:block.index("```")]
    levels = {}
    for line in block.splitlines():
        level, names = line.strip().split(None, 1)
        for name in names.split(","):
            levels[name.strip()] = int(level)
    return levels


def _group(module: str) -> str:
    short = module.removeprefix("scratch_ae.")
    for pkg in ("layers", "models", "kernels", "exercises"):
        if short == pkg or short.startswith(pkg + "."):
            return f"{pkg}/*"
    return short


def _upward(graph, levels) -> list[str]:
    """Every import that does not point down the drawing (or stay in its own package)."""
    bad = []
    for module, deps in graph.items():
        if module == "scratch_ae":  # the package itself gathers everything
            continue
        a = _group(module)
        if a not in levels:
            bad.append(f"{module} is not in the drawing in docs/READING.md")
            continue
        for dep in deps - {"scratch_ae"}:
            b = _group(dep)
            if a != b and not levels[b] < levels[a]:
                bad.append(f"{module} (level {levels[a]}) imports {dep} (level {levels[b]})")
    return bad


def test_every_import_points_down_the_drawn_levels():
    assert _upward(_graph(), _levels()) == []


def test_the_level_check_finds_a_planted_upward_import():
    graph = _graph()
    graph["scratch_ae.io"] = graph["scratch_ae.io"] | {"scratch_ae.train"}
    assert _upward(graph, _levels()) == ["scratch_ae.io (level 6) imports scratch_ae.train "
                                         "(level 8)"]


def _imports_inside_functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and (
                        sub.level or (sub.module or "").startswith("scratch_ae")):
                    yield node.name, sub.module
                elif isinstance(sub, ast.Import) and any(
                        a.name.startswith("scratch_ae") for a in sub.names):
                    yield node.name, sub.names[0].name


def test_no_package_import_inside_a_function_but_the_cli_and_the_kernels_loader():
    found = []
    for name, path in _modules().items():
        for function, module in _imports_inside_functions(path):
            if name == "scratch_ae.cli":
                continue
            if name == "scratch_ae.backend" and function == "_load_fast" and module == "kernels":
                continue
            found.append(f"{name}.{function} imports {module}")
    assert found == []


def test_losses_import_nothing_from_layers():
    assert not any(d.startswith("scratch_ae.layers") for d in _graph()["scratch_ae.losses"])


def _library_classes(base):
    out, todo = set(), [base]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("scratch_ae.") and not cls.__name__.startswith("_"):
            out.add(cls)
    return out


def test_every_layer_model_loss_and_optimizer_is_exported_and_registered():
    import scratch_ae as sa  # noqa: PLC0415
    from scratch_ae import layers, spec  # noqa: PLC0415
    from scratch_ae.layers.base import Layer  # noqa: PLC0415
    from scratch_ae.losses import Loss  # noqa: PLC0415
    from scratch_ae.optim import Optimizer  # noqa: PLC0415

    abstract = {"Layer", "Activation", "Model", "Loss", "Optimizer"}
    concrete = {c for c in _library_classes(Layer) | _library_classes(Loss)
                if c.__name__ not in abstract}
    for cls in concrete | _library_classes(Optimizer):
        assert getattr(sa, cls.__name__, None) is cls, f"scratch_ae.{cls.__name__}"
        assert cls.__name__ in sa.__all__
    for cls in concrete:
        if cls.__module__.startswith("scratch_ae.layers."):
            assert getattr(layers, cls.__name__, None) is cls, f"scratch_ae.layers.{cls.__name__}"
        assert spec.REGISTRY.get(cls.__name__) is cls, f"{cls.__name__} not in spec.REGISTRY"
    assert sa.fit is sa.train.fit and "fit" in sa.__all__

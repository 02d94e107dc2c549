"""The code's shape, read from its imports (docs/ARCHITECTURE.md): dependencies flow one way
(viewer <- semantify's core <- lightning_modules <- the fronts, semantify.cli and
semantify.app), no module imports another's private names, and no import cycle at load time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("viewer", "semantify", "lightning_modules")
FRONTS = ("semantify.app", "semantify.cli", "semantify.__main__")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()
TREES = {name: ast.parse(path.read_text()) for name, path in MODULES.items()}


def _imported(node) -> list[tuple[str, str | None]]:
    """(module, name or None) pairs an import statement reads, ours only."""
    if isinstance(node, ast.Import):
        pairs = [(alias.name, None) for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        pairs = [(node.module, alias.name) for alias in node.names]
    else:
        return []
    return [(module, name) for module, name in pairs if module.split(".")[0] in PACKAGES]


def _is_within(module: str, packages) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_dependencies_flow_one_way():
    wrong = []
    for name, tree in TREES.items():
        for node in ast.walk(tree):  # lazy imports inside functions count too
            for module, _ in _imported(node):
                if name.startswith("viewer") and not module.startswith("viewer"):
                    wrong.append((name, module))
                elif (name.startswith("semantify") and not _is_within(name, FRONTS)
                      and _is_within(module, ("lightning_modules",) + FRONTS)):
                    wrong.append((name, module))
    assert wrong == []


def test_no_module_imports_another_modules_private_names():
    private = [(name, module, imported) for name, tree in TREES.items()
               for node in ast.walk(tree) for module, imported in _imported(node)
               if imported and imported.startswith("_") and not imported.startswith("__")
               and module != name]
    assert private == []


def test_no_import_cycle_at_load_time():
    """Module-level imports only (a function's own import runs when it is called)."""
    graph = {name: set() for name in MODULES}
    for name, tree in TREES.items():
        for node in tree.body:
            pairs = _imported(node)
            submodules = {f"{m}.{n}" for m, n in pairs if n and f"{m}.{n}" in MODULES}
            targets = submodules | {m for m, n in pairs
                                    if m in MODULES and (n is None or f"{m}.{n}" not in MODULES)}
            graph[name] |= targets - {name}
    done, cycles = set(), []

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycles.append(path[path.index(name):] + [name])
            return
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, path + [name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []

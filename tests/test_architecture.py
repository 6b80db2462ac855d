"""The package's floors: every import points down (or sideways within a floor), never in a circle.

The docs page "How it is built" (docs/how-it-is-built.md) draws these floors; this test keeps it
true. Imports inside functions count as much as those at the top of a module.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "barenet"

# Lowest first. A module's floor is that of its longest matching prefix.
FLOORS = [
    (
        "ground",
        [
            "errors", "validation", "specs", "callback", "version", "progress", "metrics", "data",
            "files", "scaling",
        ],  # fmt: skip
    ),
    ("parts", ["nn", "optim"]),
    ("loop", ["train"]),
    ("model", ["network", "structure", "prediction"]),
    ("studies", ["experiments", "viz", "exercises"]),
    ("faces", ["cli", "serve", "sklearn", "course", "__init__", "__main__"]),
]
RANK = {prefix: rank for rank, (_, prefixes) in enumerate(FLOORS) for prefix in prefixes}
NAMES = [name for name, _ in FLOORS]


def module_name(path):
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def floor(module):
    return RANK[module.split(".")[0]]


def imports_of(module):
    """The barenet modules that ``module`` imports, anywhere in its code."""
    path = MODULES[module]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "barenet" or node.module.startswith("barenet."):
                base = node.module[len("barenet.") :] if node.module != "barenet" else ""
                for alias in node.names:  # `from barenet.nn import layers` names a module
                    sub = f"{base}.{alias.name}" if base else alias.name
                    found.add(sub if sub in MODULES else base or "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("barenet."):
                    found.add(alias.name[len("barenet.") :])
        elif isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{module} uses a relative import; barenet's imports are absolute")
    return {m for m in found if m in MODULES and m != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_has_a_floor():
    assert all(module.split(".")[0] in RANK for module in MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    upward = [m for m in GRAPH[module] if floor(m) > floor(module)]
    assert not upward, (
        f"{module} ({NAMES[floor(module)]}) imports from higher floors: "
        + ", ".join(f"{m} ({NAMES[floor(m)]})" for m in upward)
    )


def test_no_import_circles():
    """Depth-first search for a cycle in the module graph (function-level imports included)."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_only_the_entry_point_imports_the_command_groups():
    groups = {m for m in MODULES if m.startswith("cli.") and m not in ("cli.main", "cli.parsing")}
    for module, targets in GRAPH.items():
        if module != "cli.main":
            assert not targets & groups, f"{module} imports command modules {targets & groups}"


def test_the_numerical_core_imports_no_display():
    core = [m for m in MODULES if NAMES[floor(m)] in ("parts", "loop")]
    for module in core:
        tree = ast.parse(MODULES[module].read_text())
        names = {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
        names |= {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not names & {"matplotlib", "tqdm", "fastapi"}, module
        assert "progress" not in GRAPH[module], module


def test_the_ground_never_imports_the_network():
    for module in MODULES:
        if module.split(".")[0] in ("data", "files"):
            assert not any(floor(m) > 0 for m in GRAPH[module]), module

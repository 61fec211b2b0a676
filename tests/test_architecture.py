"""The house stays as docs/architecture.md draws it: no import circles, layers pointing one
way, no module over 600 lines. The import graph is read from the code with `ast`, imports
inside functions included (they are how commands stay fast to start, and still tie
modules together)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "crisiscomm"
MAX_LINES = 600

# Floors, lowest first: a module imports from lower floors, or from its own package.
FLOORS: list[tuple[str, ...]] = [
    # leaves
    ("crisiscomm", "errors", "clock", "i18n", "durations", "templates", "texts", "formats", "lazy"),
    ("pages",),  # what the HTML pages share: pygal's style, SVG without scripts, Jinja2
    ("documents",),  # the YAML kinds' shared floor
    ("office",),  # the office kind: people, roles, rotations
    ("playbook",),  # the playbook kind and the compiled model
    ("store",),
    ("engine",),
    ("inbox",),  # the register: its documents, and its items on the engine's terms
    ("notify",),
    ("drill", "ui", "serve", "publish", "report"),
    ("validation",),
    ("cli",),
    ("__main__",),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, *, typing_only: bool) -> set[str]:
    """The crisiscomm modules `name` imports (with or without TYPE_CHECKING-only imports)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node) and not typing_only:
            for branch in node.orelse:
                visit(branch)
            return
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            # `import a.b.c` ties to the deepest module that exists
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _floor(name: str) -> tuple[int, str]:
    top = name.split(".")[1] if "." in name else name
    for number, members in enumerate(FLOORS):
        if top in members:
            return number, top
    raise AssertionError(f"{name}: no floor; add its package to FLOORS in this test")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle() -> None:
    graph = {name: _imports(name, typing_only=True) for name in MODULES}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_layers_point_one_way(name: str) -> None:
    floor, package = _floor(name)
    upward = []
    for target in sorted(_imports(name, typing_only=False)):
        target_floor, target_package = _floor(target)
        if target_floor > floor or (target_floor == floor and target_package != package):
            if floor == 0 and target_floor == 0:
                continue  # leaves may use each other (durations speaks through i18n)
            upward.append(target)
    assert upward == [], f"{name} imports from its own floor or above"


def test_playbook_layer_imports_nothing_above_it() -> None:
    for name in MODULES:
        if name.startswith(("crisiscomm.playbook", "crisiscomm.documents")):
            for target in _imports(name, typing_only=True):
                assert _floor(target)[0] <= _floor(name)[0], (name, target)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines; split it by what its parts are about"


@pytest.mark.parametrize(
    "name", sorted(n for n, p in MODULES.items() if p.name == "__init__.py" or n.count(".") == 1)
)
def test_every_package_says_what_lives_there(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{name} has no docstring"

"""The house rules that keep the core walkable: the core (nnplay/ minus ui/) never imports
Streamlit or nnplay.ui, and its modules' top-level imports form no cycle (an import inside a
function is how a module reaches one that reads it)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = [p for p in (ROOT / "nnplay").rglob("*.py") if "ui" not in p.relative_to(ROOT / "nnplay").parts]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, top_level_only: bool) -> set[str]:
    """Absolute names of the modules `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if node.module:            # `from . import x` imports x, not the package
                names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return names


def test_the_core_never_imports_streamlit_or_the_ui():
    offenders = {module_name(p): sorted(n for n in imported(p, top_level_only=False)
                                        if n.split(".")[0] == "streamlit" or n.startswith("nnplay.ui"))
                 for p in CORE}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_core_modules_import_each_other_without_a_cycle():
    modules = {module_name(p): p for p in CORE}
    graph = {m: {n for n in imported(p, top_level_only=True) if n in modules and n != m}
             for m, p in modules.items()}
    state, cycles = {}, []

    def visit(m, trail):
        state[m] = "open"
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                cycles.append(trail[trail.index(n):] + [n])
            elif n not in state:
                visit(n, trail + [n])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []

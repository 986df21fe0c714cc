"""The import rules of docs/architecture.md, checked: import-linter's contracts and an AST walk of webapp/."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEBAPP = ROOT / "webapp"
# Folders of webapp/ that are not features (their modules may still not import a feature's screens).
NOT_FEATURES = {"models", "migrations"}
SCREENS = {"views", "forms"}
HTTP_NAMES = {"request", "session", "flash", "abort", "render_template"}


def modules() -> dict[str, Path]:
    """Every module of webapp/ (migrations left out) by dotted name."""
    found = {}
    for path in sorted(WEBAPP.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found[".".join(parts)] = path
    return found


MODULES = modules()


@pytest.fixture(autouse=True)
def _context():
    """These checks read source files: no app, no database (overrides conftest's app context)."""
    yield


def feature_of(module: str) -> str | None:
    """The feature folder a module belongs to (`webapp.customers.views` -> "customers"), if any."""
    parts = module.split(".")
    if len(parts) > 1 and (WEBAPP / parts[1]).is_dir() and parts[1] not in NOT_FEATURES:
        return parts[1]
    return None


def imported(module: str, tree: ast.Module):
    """(line, imported module, imported name or None) for each webapp import of a module's tree."""
    path = MODULES.get(module)
    package = module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("webapp"):
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("webapp"):
                for alias in node.names:
                    yield node.lineno, base, alias.name


def parsed():
    """Each module of webapp/ with its syntax tree."""
    for name, path in MODULES.items():
        yield name, path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_import_contracts_of_pyproject_hold():
    """import-linter's layers and screens contracts ([tool.importlinter] in pyproject.toml)."""
    pytest.importorskip("importlinter")
    lint = Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.exists() else [sys.executable, "-m", "importlinter.cli"]
    result = subprocess.run(
        [*command, "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def private_uses(name: str, path: Path, tree: ast.Module) -> list[str]:
    """Where module `name` uses another webapp module's private name: `from m import _x` or `m._x`."""
    problems = []
    aliases = {}  # local name -> the webapp module it is bound to
    for line, source, what in imported(name, tree):
        target = f"{source}.{what}" if what else source
        if what and what.startswith("_") and not what.startswith("__") and source != name:
            problems.append(f"{where(path, line)} imports {source}.{what}")
        if target in MODULES:
            aliases[what or target.split(".")[0]] = target
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and aliases[node.value.id] != name
        ):
            problems.append(f"{where(path, node.lineno)} uses {aliases[node.value.id]}.{node.attr}")
    return problems


def test_no_module_imports_another_modules_private_names():
    """No module of webapp/ reaches into another's private (`_name`) functions."""
    problems = [p for name, path, tree in parsed() for p in private_uses(name, path, tree)]
    assert not problems, "private names used across modules:\n" + "\n".join(problems)


def test_no_feature_imports_another_features_views_or_forms():
    """A feature's screens are its own; commands and shared modules import none either."""
    problems = []
    for name, path, tree in parsed():
        if name == "webapp":  # the factory imports each feature package so its routes register
            continue
        mine = feature_of(name)
        for line, source, what in imported(name, tree):
            for target in {source, f"{source}.{what}" if what else source}:
                owner, last = feature_of(target), target.rpartition(".")[2]
                if owner and owner != mine and last in SCREENS and target in MODULES:
                    problems.append(f"{where(path, line)} imports {target}")
    assert not problems, "screens imported across features:\n" + "\n".join(sorted(set(problems)))


def test_services_never_touch_http():
    """A feature's services (services.py) import none of request, session, flash, abort, render_template."""
    problems = []
    for name, path, tree in parsed():
        if path.name != "services.py":
            continue
        for line, source, _ in imported(name, tree):
            if source == "webapp.htmx":
                problems.append(f"{where(path, line)} imports webapp.htmx")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                names = {a.name for a in node.names} & HTTP_NAMES
                if names:
                    problems.append(
                        f"{where(path, node.lineno)} imports {', '.join(sorted(names))} from flask"
                    )
    assert not problems, "services touching HTTP:\n" + "\n".join(problems)


def test_the_private_name_check_sees_both_spellings():
    """The walk catches `from m import _x` and `m._x` (so a green run means something), not dunders."""
    tree = ast.parse(
        "from webapp.edge import _hidden, __doc__\nfrom webapp import edge\nedge._other()\nedge.__name__\n"
    )
    problems = private_uses("webapp.fake", WEBAPP / "fake.py", tree)
    assert problems == [
        "webapp/fake.py:1 imports webapp.edge._hidden",
        "webapp/fake.py:3 uses webapp.edge._other",
    ]

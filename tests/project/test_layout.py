"""Dependencies run one way: `mrblue/shared` (plumbing) imports nothing of the project;
`editor` (pages) and `mrblue/engine` (the realtime engine) import nothing from the rest of the
project but `shared`; the `mrblue` app depends on them all. Inside the engine, its layers.

Read from the source with `ast`, so imports inside functions count too.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ("mrblue.shared",)


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module a file imports, at any depth (relative imports made absolute)."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def imports_from(
    folder: str, *, prefixes: tuple[str, ...], allowed=(), skip=(), root: Path = ROOT
) -> list[str]:
    """`file: module` for each import under `folder` of a module in `prefixes`, except
    `allowed` ones and files under a folder named in `skip`."""
    bad = []
    for path in sorted((root / folder).rglob("*.py")):
        if any(part in skip for part in path.relative_to(root).parts):
            continue
        for module in sorted(imported_modules(path, root)):
            hits = any(module == p or module.startswith(f"{p}.") for p in prefixes)
            ok = any(module == a or module.startswith(f"{a}.") for a in allowed)
            if hits and not ok:
                bad.append(f"{path.relative_to(root).as_posix()}: {module}")
    return bad


def test_the_layout_check_sees_imports_of_every_kind(tmp_path):
    (tmp_path / "editor" / "migrations").mkdir(parents=True)
    (tmp_path / "editor" / "migrations" / "0001_old.py").write_text("import mrblue\n")
    source = "import mrblue.models\n\ndef f():\n    from mrblue import session\n"
    (tmp_path / "editor" / "probe.py").write_text(source)
    found = imports_from("editor", prefixes=("mrblue",), skip=("migrations",), root=tmp_path)
    assert found == [
        "editor/probe.py: mrblue",
        "editor/probe.py: mrblue.models",
        "editor/probe.py: mrblue.session",
    ]
    (tmp_path / "mrblue" / "engine" / "brains").mkdir(parents=True)
    source = "from ..core import step\nfrom ... import session\n"
    (tmp_path / "mrblue" / "engine" / "brains" / "probe.py").write_text(source)
    found = imports_from(
        "mrblue/engine", prefixes=("mrblue",), allowed=("mrblue.engine",), root=tmp_path
    )
    assert found == [
        "mrblue/engine/brains/probe.py: mrblue",
        "mrblue/engine/brains/probe.py: mrblue.session",
    ]


def test_the_shared_plumbing_imports_nothing_of_the_project():
    assert imports_from("mrblue/shared", prefixes=("mrblue", "editor"), allowed=SHARED) == []


def test_editor_imports_nothing_from_mrblue_but_the_shared_plumbing():
    found = imports_from("editor", prefixes=("mrblue",), allowed=SHARED, skip=("migrations",))
    assert found == []


def test_the_engine_imports_nothing_from_the_apps():
    allowed = ("mrblue.engine", *SHARED)
    assert imports_from("mrblue/engine", prefixes=("mrblue", "editor"), allowed=allowed) == []


# The engine's layers, lowest first: a module imports only from its own layer or lower ones
# (same-rank layers, brains and voice, stay apart). The entry points, `mrblue.engine.urls` and
# `mrblue.engine.asgi`, sit on top.
ENGINE_LAYERS = {
    "base": 0,  # engine_settings, declared, models, jsonparse
    "protocol": 1,
    "brains": 2,
    "voice": 2,
    "workers": 3,
    "transports": 4,
    "urls": 5,
    "asgi": 6,  # an engine worker's ASGI application
}


def engine_layer(module: str) -> str:
    """The layer of an engine module, by its folder (or `base` for the top-level modules)."""
    part = module.removeprefix("mrblue.engine.").split(".")[0]
    return part if part in ENGINE_LAYERS else "base"


def engine_imports_against_the_layers(root: Path = ROOT) -> list[str]:
    """`file: module` for each engine import of a higher layer, or of a sibling layer."""
    bad = []
    for path in sorted((root / "mrblue" / "engine").rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        own = engine_layer(module)
        for imported in sorted(imported_modules(path, root)):
            if not imported.startswith("mrblue.engine.") or imported == "mrblue.engine":
                continue
            theirs = engine_layer(imported)
            if ENGINE_LAYERS[theirs] > ENGINE_LAYERS[own] or (
                theirs != own and ENGINE_LAYERS[theirs] == ENGINE_LAYERS[own]
            ):
                bad.append(f"{path.relative_to(root).as_posix()}: {imported}")
    return bad


def test_the_engine_layers_check_sees_an_import_upward(tmp_path):
    (tmp_path / "mrblue" / "engine" / "protocol").mkdir(parents=True)
    source = "from mrblue.engine.voice import speech\nfrom mrblue.engine.protocol import items\n"
    (tmp_path / "mrblue" / "engine" / "protocol" / "probe.py").write_text(source)
    (tmp_path / "mrblue" / "engine" / "voice").mkdir()
    source = "def f():\n    from mrblue.engine.brains import load_brain\n"
    (tmp_path / "mrblue" / "engine" / "voice" / "probe.py").write_text(source)
    assert engine_imports_against_the_layers(tmp_path) == [
        "mrblue/engine/protocol/probe.py: mrblue.engine.voice",
        "mrblue/engine/protocol/probe.py: mrblue.engine.voice.speech",
        "mrblue/engine/voice/probe.py: mrblue.engine.brains",
        "mrblue/engine/voice/probe.py: mrblue.engine.brains.load_brain",
    ]


def test_the_engine_imports_only_from_its_own_layer_or_below():
    assert engine_imports_against_the_layers() == []


def _spec(name: str):
    """The module `name`'s spec, or None where there is no such module."""
    import importlib.util

    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:  # a parent is a module, not a package
        return None


def top_level_names(source: str) -> set[str] | None:
    """The names a module's source defines at its top level (None: it may define any, with
    a module `__getattr__` or a star import)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if any(alias.name == "*" for alias in node.names):
                return None
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.If | ast.Try):
            inner = ast.Module(body=list(ast.iter_child_nodes(node)), type_ignores=[])
            found = top_level_names(ast.unparse(inner))
            if found is None:
                return None
            names |= found
    return None if "__getattr__" in names else names


def unresolved_imports(folders=("mrblue", "editor", "tests"), root: Path = ROOT) -> list[str]:
    """`file: name` for each import of the project's own code that names nothing: a module
    that is not there, or a name its module does not define. Imports made inside functions
    (benchmarks, commands) run only when used, so a move can break them silently. Read from
    the source, so no module is run."""
    own = tuple(f"{folder}." for folder in folders)
    bad = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                    continue
                if not f"{node.module}.".startswith(own):
                    continue
                where = path.relative_to(root).as_posix()
                spec = _spec(node.module)
                if spec is None or spec.origin is None:
                    bad.append(f"{where}: {node.module}")
                    continue
                defined = top_level_names(Path(spec.origin).read_text())
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    if defined is not None and alias.name not in defined and _spec(name) is None:
                        bad.append(f"{where}: {name}")
    return bad


def test_the_import_check_sees_a_name_that_moved(tmp_path):
    (tmp_path / "tests").mkdir()
    source = "def later():\n    from tests.support.audio_fixtures import no_such_helper\n"
    (tmp_path / "tests" / "probe.py").write_text(source)
    assert unresolved_imports(("tests",), root=tmp_path) == [
        "tests/probe.py: tests.support.audio_fixtures.no_such_helper"
    ]


def test_every_import_of_our_own_code_resolves():
    assert unresolved_imports() == []

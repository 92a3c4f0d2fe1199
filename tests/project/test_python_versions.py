"""The code runs on every Python that `requires-python` names (3.11 to 3.13, each tested):
nothing those versions removed, and no construct whose meaning 3.13 changed.

Python 3.12 removed `asyncore`, `asynchat`, `imp`, `distutils` and `smtpd`; 3.13 removed the
"dead batteries" of PEP 594 and `lib2to3`, and stopped chaining `classmethod` through other
descriptors (a class method stacked on a `staticmethod` or a `property`: the stacked one is
then called with the class). `mypy --python-version 3.13` finds the rest (the type check)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("mrblue", "editor", "tests", "benchmarks", "manage.py")
REMOVED_MODULES = {
    # 3.12
    "asynchat", "asyncore", "distutils", "imp", "smtpd",
    # 3.13 (PEP 594, and lib2to3)
    "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap",
    "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib",
    "uu", "xdrlib",
}  # fmt: skip
NOT_CHAINED = {"staticmethod", "property"}  # under a classmethod: no longer chained in 3.13
DEPRECATED_CALLS = {"utcnow", "utcfromtimestamp"}  # naive UTC datetimes, deprecated in 3.12


def python_files():
    for name in SOURCES:
        path = ROOT / name
        yield from [path] if path.is_file() else path.rglob("*.py")


def findings(source: str, where: str) -> list[str]:
    """What in `source` a supported Python removed or changed."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            modules = []
        for module in modules:
            if module.split(".")[0] in REMOVED_MODULES:
                found.append(f"{where}:{node.lineno}: imports {module}")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = [d.id for d in node.decorator_list if isinstance(d, ast.Name)]
            if "classmethod" in names and NOT_CHAINED & set(names[names.index("classmethod") :]):
                found.append(f"{where}:{node.lineno}: classmethod stacked on a descriptor")
        if isinstance(node, ast.Attribute) and node.attr in DEPRECATED_CALLS:
            found.append(f"{where}:{node.lineno}: {node.attr}")
    return found


def test_nothing_a_supported_python_removed_or_changed_is_used():
    found = []
    for path in python_files():
        if ".venv" not in path.parts:
            found += findings(path.read_text(), str(path.relative_to(ROOT)))
    assert found == []


def test_the_check_finds_each_kind():
    source = (
        "import asyncore\n"
        "from distutils.util import strtobool\n"
        "import cgi.parse\n"
        "class Row:\n"
        "    @classmethod\n"
        "    @staticmethod\n"
        "    def new_value(): ...\n"
        "    @classmethod\n"
        "    @property\n"
        "    def name(cls): ...\n"
        "when = datetime.datetime.utcnow()\n"
    )
    assert sorted(findings(source, "x.py"), key=lambda f: int(f.split(":")[1])) == [
        "x.py:1: imports asyncore",
        "x.py:2: imports distutils.util",
        "x.py:3: imports cgi.parse",
        "x.py:7: classmethod stacked on a descriptor",
        "x.py:10: classmethod stacked on a descriptor",
        "x.py:11: utcnow",
    ]

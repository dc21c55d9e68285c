"""prune.py, the image's pruning rules, run on real shared objects and on a virtualenv-shaped tree."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "pack" / "builders" / "templates" / "prune.py"


@pytest.fixture(scope="module")
def prune() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pack_prune", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def section_names(data: bytes) -> list[bytes]:
    """The section names of an ELF64 little-endian file."""
    shoff, shentsize, shnum, shstrndx = struct.unpack_from("<Q", data, 40)[0], *struct.unpack_from("<HHH", data, 58)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    table = headers[shstrndx][4]
    return [data[table + h[0] : data.index(b"\0", table + h[0])] for h in headers]


@pytest.fixture
def yaml_copy(tmp_path: Path) -> Path:
    """PyYAML's package copied aside, with its C extension (shipped with debug symbols)."""
    package = Path(yaml.__file__).parent
    shutil.copytree(package, tmp_path / "yaml", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_a_stripped_extension_loses_symbols_and_debug_info_and_still_works(prune, yaml_copy):
    extension = next((yaml_copy / "yaml").glob("_yaml*.so"))
    before = extension.read_bytes()
    if b".symtab" not in section_names(before):
        pytest.skip("this PyYAML's extension ships stripped already")
    assert prune.strip_file(str(extension))
    after = extension.read_bytes()
    assert len(after) < len(before)
    names = section_names(after)
    assert b".symtab" not in names and not any(n.startswith(b".debug") for n in names)
    assert {b".dynsym", b".dynstr", b".text", b".shstrtab"} <= set(names)  # what loading needs stays
    code = "import yaml; assert yaml.__with_libyaml__; print(yaml.load('a: [1, 2]', Loader=yaml.CSafeLoader))"
    env = {**os.environ, "PYTHONPATH": str(yaml_copy), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "{'a': [1, 2]}"
    assert prune.strip_elf(after) is None  # nothing left to remove


def test_a_layout_it_cannot_rewrite_safely_is_left_alone(prune, yaml_copy):
    data = bytearray(next((yaml_copy / "yaml").glob("_yaml*.so")).read_bytes())
    phoff, phentsize, phnum = struct.unpack_from("<Q", data, 32)[0], *struct.unpack_from("<HH", data, 54)
    for i in range(phnum):  # make a segment load the file's last byte, as patchelf's appended segments do
        at = phoff + i * phentsize
        if struct.unpack_from("<I", data, at)[0] == 1:  # PT_LOAD
            offset = struct.unpack_from("<Q", data, at + 8)[0]
            struct.pack_into("<Q", data, at + 32, len(data) - offset)
            break
    assert prune.strip_elf(bytes(data)) is None
    assert prune.strip_elf(b"not an ELF file") is None


def test_the_rules_on_a_virtualenv(tmp_path):
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    files = {
        "pkg/__init__.py": b"",
        "pkg/core.py": b"x = 1\n",
        "pkg/__pycache__/core.cpython-311.pyc": b"bytecode",
        "pkg/core.pyi": b"x: int\n",
        "pkg/tests/test_core.py": b"def test(): pass\n",
        "pkg/tests/__pycache__/test_core.cpython-311.pyc": b"bytecode",
        "pkg/sub/tests/data.csv": b"a,b\n",
        "pkg/include/pkg.h": b"int f(void);\n",
        "pkg/_speed.pyx": b"cdef int x\n",
        "pkg/libpkg.a": b"!<arch>\n",
        "pkg/static/app.js": b"console.log(1)\n",
        "pkg/static/app.js.map": b"{}",
        "pkg/data/table.bin": b"\1" * 70_000,
        "pkg.libs/libgfortran-a.so.5": b"\2" * 70_000,
        "other.libs/libgfortran-a.so.5": b"\2" * 70_000,
        "small/one.txt": b"same",
        "small/two.txt": b"same",
        "pkg-1.0.dist-info/RECORD": b"pkg/core.py,,\n",
    }
    for name, content in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(content)
    (venv / "tests").mkdir()  # not a package's: kept
    done = subprocess.run([sys.executable, str(SCRIPT), str(venv)], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("pruned: 8 files removed, 0 shared objects stripped, 1 duplicates linked, ")
    left = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    assert left == [
        "other.libs/libgfortran-a.so.5",
        "pkg-1.0.dist-info/RECORD",
        "pkg.libs/libgfortran-a.so.5",
        "pkg/__init__.py",
        "pkg/__pycache__/core.cpython-311.pyc",
        "pkg/core.py",
        "pkg/data/table.bin",
        "pkg/static/app.js",
        "small/one.txt",
        "small/two.txt",
    ]
    first, second = (site / "other.libs/libgfortran-a.so.5").stat(), (site / "pkg.libs/libgfortran-a.so.5").stat()
    assert first.st_ino == second.st_ino and first.st_nlink == 2  # one copy, two names
    assert (site / "small/one.txt").stat().st_ino != (site / "small/two.txt").stat().st_ino  # below the threshold
    assert (venv / "tests").is_dir() and not (site / "pkg" / "tests").exists()


def test_a_wrong_call_is_a_usage_line():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr == "usage: python prune.py [--bytecode-only] VENV\n"

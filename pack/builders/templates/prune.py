"""Prune an image's virtualenv of what a scoring server never uses; the one list of pruning rules.

Run by the image build (``python prune.py VENV``) right after the dependencies are installed, with
the image's own Python and the standard library only (the base image has no strip tool). The rules:

1. ``tests`` directories inside packages: the packages' own test suites (``numpy/_core/tests``,
   ``scipy/**/tests``, ``pandas/tests``, ``sklearn/**/tests``) and their compiled bytecode.
2. Files nothing imports or loads at run time, by suffix (``PRUNED_SUFFIXES``): C and Cython sources
   and headers, static libraries, type stubs, JavaScript/CSS source maps.
3. Debug symbols: the symbol table and ``.debug_*`` sections of every ELF shared object (what
   ``strip --strip-unneeded`` drops; the dynamic symbols that loading needs stay). A file whose
   layout is not the plain one (a removed section before loaded data, as in the objects auditwheel
   patched to find their vendored libraries) is left as it is.
4. Duplicates: files of at least ``DUPLICATE_MIN_BYTES`` with identical content become hard links of
   one copy (the wheels of numpy and scipy each vendor the same libgfortran).
5. Only with ``--bytecode-only`` (``pack build-docker --bytecode-only``): a module whose bytecode
   was compiled keeps the bytecode alone, beside where its source was (``x.pyc`` for ``x.py``), and
   loses its source. Imports and cold start are unchanged; tracebacks name the file and line but
   show no source text, and ``inspect.getsource`` fails on library code (TorchScript and other
   tools that read their own source break), so it is never the default.

What stays: every module and its ``.pyc`` (cold start), package data, licences and metadata
(``pip check`` and ``importlib.metadata`` still work). ``pack build-docker --no-prune`` skips all of it.

Prints one line: how many files were removed, stripped and linked, and the bytes saved.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import sys
from collections import defaultdict

PRUNED_DIRECTORIES = ("tests",)
PRUNED_SUFFIXES = (".c", ".cpp", ".h", ".hpp", ".pyx", ".pxd", ".pxi", ".tp", ".a", ".pyi", ".map")
DUPLICATE_MIN_BYTES = 64 * 1024

# ELF64, little-endian: file header, program header, section header.
ELF_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")
SHF_ALLOC = 0x2
SHF_INFO_LINK = 0x40
SHT_SYMTAB, SHT_RELA, SHT_NOBITS, SHT_REL = 2, 4, 8, 9


def prune_tree(root: str, bytecode_only: bool = False) -> tuple[int, int, int, int]:
    """Apply every rule under ``root``; return (files removed, objects stripped, files linked, bytes saved)."""
    before = tree_size(root)
    removed = remove_unused(root) + (keep_bytecode_only(root) if bytecode_only else 0)
    stripped = sum(strip_file(path) for path in shared_objects(root))
    linked = link_duplicates(root)
    return removed, stripped, linked, before - tree_size(root)


def remove_unused(root: str) -> int:
    """Rules 1 and 2: remove test directories (inside packages) and files with ``PRUNED_SUFFIXES``."""
    count = 0
    for directory, subdirectories, files in os.walk(root):
        inside_package = "site-packages" in directory
        for name in list(subdirectories):
            if inside_package and name in PRUNED_DIRECTORIES:
                count += sum(len(f) for _, _, f in os.walk(os.path.join(directory, name)))
                shutil.rmtree(os.path.join(directory, name))
                subdirectories.remove(name)
        for name in files:
            if inside_package and name.endswith(PRUNED_SUFFIXES):
                os.remove(os.path.join(directory, name))
                count += 1
    return count


def keep_bytecode_only(root: str) -> int:
    """Rule 5: replace each package module that has bytecode by its bytecode alone; return sources removed."""
    tag = sys.implementation.cache_tag
    count = 0
    for directory, subdirectories, files in os.walk(root):
        if "site-packages" not in directory:
            continue
        for name in files:
            cached = os.path.join(directory, "__pycache__", f"{name[:-3]}.{tag}.pyc")
            if name.endswith(".py") and os.path.isfile(cached):
                os.replace(cached, os.path.join(directory, name[:-3] + ".pyc"))
                os.remove(os.path.join(directory, name))
                count += 1
        if "__pycache__" in subdirectories and not os.listdir(os.path.join(directory, "__pycache__")):
            os.rmdir(os.path.join(directory, "__pycache__"))
            subdirectories.remove("__pycache__")
    return count


def shared_objects(root: str) -> list[str]:
    """Regular files under ``root`` named like shared objects (``*.so``, ``*.so.N``)."""
    found = []
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            if (name.endswith(".so") or ".so." in name) and os.path.isfile(path) and not os.path.islink(path):
                found.append(path)
    return sorted(found)


def strip_file(path: str) -> bool:
    """Rule 3: rewrite ``path`` without its symbol table and debug sections; False if left as it was."""
    with open(path, "rb") as handle:
        data = handle.read()
    stripped = strip_elf(data)
    if stripped is None:
        return False
    temporary = path + ".pack-strip"
    with open(temporary, "wb") as handle:
        handle.write(stripped)
    shutil.copymode(path, temporary)
    os.replace(temporary, path)
    return True


def strip_elf(data: bytes) -> bytes | None:
    """``data`` (an ELF64 little-endian shared object) without its non-loaded symbol and debug sections.

    None when there is nothing to remove or the layout is not one this can rewrite safely: a removed
    section must lie after every byte a segment loads; the sections kept are renumbered.
    """
    if len(data) < ELF_HEADER.size or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    header = list(ELF_HEADER.unpack_from(data))
    phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx = header[5], header[6], *header[9:]
    if shoff == 0 or shnum == 0 or shentsize != SECTION_HEADER.size or shstrndx >= shnum:
        return None
    if shoff + shnum * shentsize > len(data) or (phnum and phentsize != PROGRAM_HEADER.size):
        return None
    sections = [list(SECTION_HEADER.unpack_from(data, shoff + i * shentsize)) for i in range(shnum)]
    names = sections[shstrndx]
    boundary = phoff + phnum * phentsize
    for i in range(phnum):
        segment = PROGRAM_HEADER.unpack_from(data, phoff + i * phentsize)
        boundary = max(boundary, segment[2] + segment[5])
    for section in sections:
        if section[2] & SHF_ALLOC and section[1] != SHT_NOBITS:
            boundary = max(boundary, section[4] + section[5])

    def name(section: list[int]) -> bytes:
        start = names[4] + section[0]
        return data[start : data.index(b"\0", start)]

    drop = {i for i, s in enumerate(sections) if not s[2] & SHF_ALLOC and i and _removable(s, name(s))}
    drop |= {sections[i][6] for i in drop if sections[i][1] == SHT_SYMTAB and sections[i][6] not in (0, shstrndx)}
    kept = [i for i in range(shnum) if i not in drop]
    if not drop or any(sections[i][6] in drop for i in kept) or any(sections[i][4] < boundary for i in drop):
        return None
    index = {old: new for new, old in enumerate(kept)}
    out = bytearray(data[:boundary])
    for i in kept:
        section = sections[i]
        if section[4] >= boundary and section[1] != SHT_NOBITS and i:  # a kept non-loaded section: move it down
            align = max(section[8], 1)
            out += b"\0" * (-len(out) % align)
            contents = data[section[4] : section[4] + section[5]]
            section[4] = len(out)
            out += contents
        section[6] = index.get(section[6], 0)
        if section[2] & SHF_INFO_LINK or (section[1] in (SHT_REL, SHT_RELA) and section[7]):
            section[7] = index.get(section[7], 0)
    out += b"\0" * (-len(out) % 8)
    header[6], header[12], header[13] = len(out), len(kept), index[shstrndx]
    for i in kept:
        out += SECTION_HEADER.pack(*sections[i])
    ELF_HEADER.pack_into(out, 0, *header)
    return bytes(out)


def _removable(section: list[int], name: bytes) -> bool:
    return section[1] == SHT_SYMTAB or name.startswith((b".debug", b".zdebug"))


def link_duplicates(root: str) -> int:
    """Rule 4: replace files of identical content (``DUPLICATE_MIN_BYTES`` or more) by hard links."""
    by_size: dict[int, list[str]] = defaultdict(list)
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path) and os.path.getsize(path) >= DUPLICATE_MIN_BYTES:
                by_size[os.path.getsize(path)].append(path)
    linked = 0
    for paths in by_size.values():
        if len(paths) < 2:
            continue
        first: dict[str, str] = {}
        for path in sorted(paths):
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            if digest not in first:
                first[digest] = path
                continue
            temporary = path + ".pack-link"
            os.link(first[digest], temporary)
            os.replace(temporary, path)
            linked += 1
    return linked


def tree_size(root: str) -> int:
    """Bytes held by the regular files under ``root`` (a hard-linked file counted once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            status = os.lstat(os.path.join(directory, name))
            if (status.st_dev, status.st_ino) not in seen:
                seen.add((status.st_dev, status.st_ino))
                total += status.st_size
    return total


def main(argv: list[str]) -> int:
    bytecode_only = "--bytecode-only" in argv
    paths = [arg for arg in argv if arg != "--bytecode-only"]
    if len(paths) != 1:
        sys.stderr.write("usage: python prune.py [--bytecode-only] VENV\n")
        return 2
    removed, stripped, linked, saved = prune_tree(paths[0], bytecode_only)
    print(
        f"pruned: {removed} files removed, {stripped} shared objects stripped, {linked} duplicates linked, "
        f"{saved / 1e6:.1f} MB saved"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

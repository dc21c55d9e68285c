"""Deterministic output: sorted YAML/JSON and reproducible tarballs."""

from __future__ import annotations

import gzip
import os
import tarfile

from pack.builders.output import FIXED_MTIME, copy_tree, dump_json, dump_yaml, write_tar_gz


def test_yaml_and_json_sort_keys():
    assert dump_yaml({"b": 1, "a": {"d": 2, "c": 3}}) == "a:\n  c: 3\n  d: 2\nb: 1\n"
    assert dump_json({"b": 1, "a": [2]}) == b'{\n  "a": [\n    2\n  ],\n  "b": 1\n}\n'


def test_tarball_is_reproducible_and_anonymous(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "b.txt").write_text("b")
    (src / "sub" / "a.bin").write_bytes(b"\x00\x01")
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o700)
    write_tar_gz(src, tmp_path / "one.tar.gz")
    os.utime(src / "b.txt", (1, 1))  # a different mtime changes nothing
    (src / "b.txt").chmod(0o600)
    write_tar_gz(src, tmp_path / "two.tar.gz")
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()
    with gzip.open(tmp_path / "one.tar.gz") as gz:
        assert gz.read(1)  # a valid gzip stream
    with tarfile.open(tmp_path / "one.tar.gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["sub", "b.txt", "run.sh", "sub/a.bin"]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", FIXED_MTIME)}
    modes = {m.name: m.mode for m in members}
    assert modes == {"sub": 0o755, "b.txt": 0o644, "run.sh": 0o755, "sub/a.bin": 0o644}
    assert (tmp_path / "one.tar.gz").read_bytes()[4:8] == b"\x00\x00\x00\x00"  # gzip header mtime


def test_copied_trees_get_fixed_mtimes(tmp_path):
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f").write_text("x")
    copy_tree(src, tmp_path / "dest")
    for path in [tmp_path / "dest", tmp_path / "dest" / "d", tmp_path / "dest" / "d" / "f"]:
        assert path.stat().st_mtime == FIXED_MTIME
    assert (tmp_path / "dest" / "d" / "f").read_text() == "x"

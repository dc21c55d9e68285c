from __future__ import annotations

import os

import pytest

from pack._fs import atomic_dir, checksum_tree, safe_join, safe_relpath, sha256_file, tree_size
from pack.errors import AlreadyExists, InvalidModel


def test_atomic_dir_publishes_only_on_success(tmp_path):
    dest = tmp_path / "out"
    with atomic_dir(dest) as tmp:
        (tmp / "a.txt").write_text("a")
        assert not dest.exists()
    assert (dest / "a.txt").read_text() == "a"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_leaves_nothing_on_failure(tmp_path):
    dest = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(dest) as tmp:
        (tmp / "partial").write_text("x")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_accepts_empty_and_refuses_non_empty(tmp_path):
    (tmp_path / "empty").mkdir()
    with atomic_dir(tmp_path / "empty") as tmp:
        (tmp / "f").write_text("1")
    assert (tmp_path / "empty" / "f").exists()
    with pytest.raises(AlreadyExists), atomic_dir(tmp_path / "empty"):
        pass


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/passwd", "", "..", "C:\\x", "a\x00b"])
def test_safe_relpath_refuses_escapes(bad):
    with pytest.raises(InvalidModel):
        safe_relpath(bad, allow_empty=False, error=InvalidModel)


def test_safe_join_refuses_symlink_escape(tmp_path):
    root = tmp_path / "model"
    root.mkdir()
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", root / "link")
    with pytest.raises(InvalidModel, match="outside"):
        safe_join(root, "link")
    assert safe_join(root, "sub/file.bin") == root / "sub" / "file.bin"


def test_checksums_and_size(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b").write_bytes(b"bb")
    (tmp_path / "a").write_bytes(b"a")
    sums = checksum_tree(tmp_path)
    assert list(sums) == ["a", "d/b"]
    assert (
        sums["a"] == sha256_file(tmp_path / "a") == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    )
    assert tree_size(tmp_path) == 3

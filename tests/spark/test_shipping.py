"""The model archive: written once with its manifest, unpacked only as listed, checked before loading."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'pack[spark]')")

from pack.errors import InvalidModel
from pack.spark.shipping import FileRecord, Manifest, unpack, verify, write_archive


@pytest.fixture
def model(tmp_path) -> Path:
    root = tmp_path / "model"
    (root / "data").mkdir(parents=True)
    (root / "MLmodel").write_text("flavors: {}\n")
    (root / "data" / "weights.bin").write_bytes(bytes(range(256)) * 40)
    return root


def test_round_trip_keeps_every_byte_and_reuses_the_unpacked_directory(model, tmp_path):
    archive, manifest = write_archive(model, None, tmp_path / "archives")
    assert archive.name == manifest.archive_name
    assert [f.path for f in manifest.files] == ["MLmodel", "data/weights.bin"]

    first = unpack(archive, manifest, tmp_path / "executor")
    verify(first, manifest)
    assert (first / "data" / "weights.bin").read_bytes() == (model / "data" / "weights.bin").read_bytes()
    assert unpack(archive, manifest, tmp_path / "executor") == first
    assert [p.name for p in (tmp_path / "executor").iterdir()] == [first.name]  # no partial leftovers


def test_an_expected_manifest_refuses_changed_added_or_missing_files(model, tmp_path):
    _, manifest = write_archive(model, None, tmp_path / "a")
    (model / "data" / "weights.bin").write_bytes(b"x" * (256 * 40))  # same size
    with pytest.raises(InvalidModel, match=r"data/weights\.bin changed after registration"):
        write_archive(model, manifest, tmp_path / "b")
    (model / "data" / "weights.bin").unlink()
    with pytest.raises(InvalidModel, match=r"missing: data/weights\.bin"):
        write_archive(model, manifest, tmp_path / "b")
    assert not list((tmp_path / "b").glob("*"))  # nothing half-written stays


def test_a_tampered_unpacked_file_is_refused_before_loading(model, tmp_path):
    archive, manifest = write_archive(model, None, tmp_path / "archives")
    unpacked = unpack(archive, manifest, tmp_path / "executor")
    (unpacked / "MLmodel").write_text("flavors: {x: 1}\n")
    with pytest.raises(InvalidModel, match="MLmodel differs from the model's manifest"):
        verify(unpacked, manifest)
    (unpacked / "MLmodel").write_text("flavors: {}\n")
    (unpacked / "code.py").write_text("import os\n")
    with pytest.raises(InvalidModel, match=r"added after registration: code\.py"):
        verify(unpacked, manifest)


@pytest.mark.parametrize("name", ["../escape.txt", "MLmodel.extra", "/etc/passwd"])
def test_an_archive_with_entries_outside_the_manifest_writes_nothing(tmp_path, name):
    manifest = Manifest.of([FileRecord("MLmodel", "0" * 64, 3)])
    archive = tmp_path / manifest.archive_name
    with tarfile.open(archive, "w") as tar:
        for entry in ("MLmodel", name):
            info = tarfile.TarInfo(entry)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(InvalidModel, match="unexpected entry"):
        unpack(archive, manifest, tmp_path / "executor" / "models")
    assert not (tmp_path / "escape.txt").exists()
    assert not list((tmp_path / "executor" / "models").iterdir())


def test_a_manifest_refuses_paths_that_leave_the_model_directory():
    with pytest.raises(InvalidModel, match="escapes"):
        Manifest.of([FileRecord("../x", "0" * 64, 1)])

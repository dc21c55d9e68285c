"""The wheelhouse: pack's own wheel (with the base chart) and the image's wheels for its platform."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from pack import __version__
from pack.builders import wheelhouse
from pack.builders.wheelhouse import (
    TargetPlatform,
    fill_wheelhouse,
    host_constraints,
    pack_requirements,
    pack_wheel,
    requirement_name,
    source_root,
)


def test_pack_wheel_ships_the_base_chart_and_templates(cache_dir):
    if source_root() is None:
        pytest.skip("pack runs from an installed wheel here, not from its source tree")
    wheel = pack_wheel(cache_dir)
    assert wheel is not None and wheel.name.startswith(f"pack-{__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "pack/_charts/pack-model/Chart.yaml" in names
    assert "pack/_charts/pack-model/templates/deployment.yaml" in names
    assert "pack/builders/templates/model.Dockerfile" in names
    assert "pack/builders/templates/sagemaker_serve.py" in names
    assert pack_wheel(cache_dir) == wheel  # cached by the source's content


def test_host_constraints_pin_packs_dependencies_except_the_models():
    pins = dict(line.split("==") for line in host_constraints(exclude={"numpy"}))
    assert "numpy" not in pins
    assert {"click", "pyyaml", "pandas", "uvicorn"} <= set(pins)
    assert "pack" not in pins


def test_requirement_names():
    assert requirement_name("scikit_learn==1.5.0") == "scikit-learn"
    assert requirement_name("Foo.Bar>=1; python_version<'3.12'") == "foo-bar"
    assert requirement_name("torch @ https://download.example/torch-2.4.whl") == "torch"
    assert requirement_name("pandas[performance]>=2") == "pandas"
    for not_a_requirement in ("-r other.txt", "--index-url https://x", "./dist/thing.whl", "", "# comment"):
        assert requirement_name(not_a_requirement) is None


def test_packs_requirements_follow_the_targets_markers():
    x86 = pack_requirements(TargetPlatform("3.11", "x86_64"))
    names = {requirement_name(line) for line in x86}
    assert {"click", "numpy", "starlette", "uvloop"} <= names
    assert not names & {"scikit-learn", "torch", "pytest"}  # extras are not runtime requirements
    assert all("extra" not in line for line in x86)


def test_target_platform_selects_linux_wheels_for_the_models_python():
    args = TargetPlatform("3.12", "aarch64").pip_args()
    assert args[args.index("--python-version") + 1] == "3.12"
    assert "cp312" in args and "--only-binary=:all:" in args
    assert "manylinux_2_17_aarch64" in args and "manylinux2014_aarch64" in args
    assert not any("x86_64" in arg for arg in args)


def test_a_resolution_is_remembered_and_reused_without_pip(cache_dir, tmp_path, monkeypatch):
    wheel = next((cache_dir / "wheels").glob("six-*.whl"), None)
    if wheel is None:
        pytest.skip("six's wheel is not in the wheel cache yet (the image tests fill it)")
    cache = tmp_path / "cache"
    (cache / "wheels").mkdir(parents=True)
    shutil.copy(wheel, cache / "wheels")
    arguments = {"constraints": [], "target": TargetPlatform("3.11"), "cache": cache, "local_wheels": []}
    first = fill_wheelhouse(tmp_path / "one", requirements=["six"], **arguments)
    assert first == [wheel.name] and len(list((cache / "resolutions").iterdir())) == 1

    def no_pip(args: list[str]) -> None:
        raise AssertionError(f"pip ran again: {args}")

    monkeypatch.setattr(wheelhouse, "_run_pip", no_pip)
    assert fill_wheelhouse(tmp_path / "two", requirements=["six"], **arguments) == first
    assert (tmp_path / "two" / wheel.name).read_bytes() == wheel.read_bytes()
    (cache / "wheels" / wheel.name).unlink()  # a wheel gone from the cache: resolved anew (here: pip)
    with pytest.raises(AssertionError, match="pip ran again"):
        fill_wheelhouse(tmp_path / "three", requirements=["six"], **arguments)

"""The model's requirements: bare names of installed distributions are pinned, requirement strings
pass unchanged, one line per project."""

from __future__ import annotations

from importlib import metadata

from pack.flavors.environment import pin


def test_pin_pins_bare_names_and_keeps_requirement_strings():
    numpy = metadata.version("numpy")
    pinned = pin(
        [
            "numpy",
            "scikit_learn>=1",
            "Scikit-Learn",  # the same project: the first entry wins
            "torch @ https://download.example/torch.whl",
            "uvloop; sys_platform != 'win32'",
            "pandas[performance]",
            "not-installed-anywhere",
            "-r extra.txt",
            "",
        ]
    )
    assert pinned == sorted(
        [
            f"numpy=={numpy}",
            "scikit_learn>=1",
            "torch @ https://download.example/torch.whl",
            "uvloop; sys_platform != 'win32'",
            "pandas[performance]",
            "not-installed-anywhere",
            "-r extra.txt",
        ],
        key=str.lower,
    )

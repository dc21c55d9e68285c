"""Settings: one pydantic-settings model per area, bad values as one-line errors naming the variable."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pack.cli.main import cli
from pack.errors import InvalidInput
from pack.flavors.settings import LoadSettings
from pack.registry.settings import RegistrySettings


def test_load_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("PACK_SERVE_WORKERS", "3")
    assert LoadSettings().load_config() == {"workers": 3}
    monkeypatch.delenv("PACK_SERVE_WORKERS")
    assert LoadSettings().load_config() == {}


@pytest.mark.parametrize("value", ["0", "-2", "many", "5000"])
def test_out_of_bounds_values_name_the_variable(monkeypatch, value):
    monkeypatch.setenv("PACK_SERVE_WORKERS", value)
    with pytest.raises(InvalidInput, match=r"PACK_SERVE_WORKERS \(serve_workers\)"):
        LoadSettings()


def test_registry_settings_refuse_an_unknown_verify_mode():
    with pytest.raises(InvalidInput, match=r"PACK_VERIFY \(verify\) Input should be 'cached', 'always' or 'off'"):
        RegistrySettings(verify="sometimes")


def test_a_bad_setting_is_a_one_line_cli_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PACK_VERIFY", "sometimes")
    result = CliRunner().invoke(cli, ["models", "list"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid setting: PACK_VERIFY (verify)")
    assert "Traceback" not in result.output

"""The person's settings: kept in their home by ``portal config``, checked before they are
kept, and a settings file that cannot be read is named with what to do."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import ExitCode, cli


def portal(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env={"PORTAL_TZ": ""})
    return result.exit_code, result.stdout + result.stderr


def test_a_setting_is_kept_in_the_home_owner_only(tmp_path: Path) -> None:
    code, said = portal(tmp_path, "config", "timezone", "Europe/Paris")
    assert code == ExitCode.OK, said
    kept = tmp_path / "settings.json"
    assert kept.read_text(encoding="utf-8") == '{\n  "timezone": "Europe/Paris"\n}\n'
    assert kept.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary left


def test_an_unknown_setting_is_named_with_the_settings_there_are(tmp_path: Path) -> None:
    code, said = portal(tmp_path, "config", "colour", "blue")
    assert code == ExitCode.USER_ERROR
    assert "There is no setting called 'colour'." in said and "Settings: timezone" in said


@pytest.mark.parametrize(
    "content", ["{not json", '["timezone"]', '{"timezone": 1}'], ids=["broken", "list", "number"]
)
def test_a_settings_file_portal_cannot_read_is_named_with_what_to_do(
    tmp_path: Path, content: str
) -> None:
    (tmp_path / "settings.json").write_text(content, encoding="utf-8")
    code, said = portal(tmp_path, "config")
    assert code == ExitCode.CONFIG, said
    assert f"The settings at {tmp_path / 'settings.json'} are not a JSON object" in said
    assert "remove it and set each again with portal config NAME VALUE" in said


def test_unset_forgets_the_setting_and_nothing_else(tmp_path: Path) -> None:
    portal(tmp_path, "config", "timezone", "Europe/Paris")
    code, said = portal(tmp_path, "config", "timezone", "--unset")
    assert code == ExitCode.OK, said
    assert (tmp_path / "settings.json").read_text(encoding="utf-8") == "{}\n"
    code, said = portal(tmp_path, "config", "--unset")
    assert code == ExitCode.USAGE and "--unset takes the NAME of one setting" in said

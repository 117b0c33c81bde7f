import os
import subprocess
import sys

from strato import cli


def test_version_reports_mode(capsys):
    assert cli.main(["version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("strato 0.1.0 (")
    assert "mode" in out


def test_version_pure_mode_forced():
    env = dict(os.environ, STRATO_NO_EXTENSIONS="1")
    out = subprocess.run([sys.executable, "-m", "strato", "version"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "(pure mode;" in out and "STRATO_NO_EXTENSIONS=1" in out


def test_config_check_reports_bad_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage]\nnodez = 3\n")
    assert cli.main(["config", "check", str(bad)]) == 2
    assert "storage.nodez: unknown key" in capsys.readouterr().err
    good = tmp_path / "good.toml"
    good.write_text("[storage]\nnodes = 3\n")
    assert cli.main(["config", "check", str(good)]) == 0


def test_config_defaults_prints_every_section(capsys):
    assert cli.main(["config", "defaults"]) == 0
    out = capsys.readouterr().out
    for section in ("[cluster]", "[ring]", "[storage]", "[proxy]", "[s3]", "[identity]",
                    "[blockserver]", "[iscsi]"):
        assert section in out


def test_services_lists_the_table(capsys):
    assert cli.main(["services"]) == 0
    out = capsys.readouterr().out
    for name in ("identity", "storage", "proxy", "blockserver"):
        assert name in out

"""Configuration from TOML: known sections, clear errors, stable hashes."""

import pytest

from tqcheck.config import CheckConfig
from tqcheck.errors import ConfigError


def test_toml_is_read(tmp_path):
    (tmp_path / "glossary.csv").write_text("source,target\nmarche,walk\n")
    path = tmp_path / "tqcheck.toml"
    path.write_text('[checks]\ndisable = ["spelling"]\n[checks.length_ratio]\nmax_ratio = 2.5\n'
                    '[glossary]\npath = "glossary.csv"\n[engines]\nlm = "none"\n[run]\nbatch_size = 8\n')
    config = CheckConfig.from_toml(path)
    assert config.disable == ("spelling",)
    assert config.check_options["length_ratio"] == {"max_ratio": 2.5}
    assert config.glossary == str(tmp_path / "glossary.csv")
    assert config.engines.lm == "none" and config.engines.back_translator == "auto"
    assert config.batch_size == 8


def test_unknown_section_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[chekcs]\n")
    with pytest.raises(ConfigError, match=r"bad.toml: unknown section\(s\) \['chekcs'\]"):
        CheckConfig.from_toml(path)


def test_invalid_toml_is_a_config_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[checks\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        CheckConfig.from_toml(path)


def test_hash_follows_settings_only():
    assert CheckConfig().hash() == CheckConfig(cache="/elsewhere").hash()
    assert CheckConfig().hash() != CheckConfig().with_rules_only().hash()
    assert CheckConfig().with_rules_only().rules_only

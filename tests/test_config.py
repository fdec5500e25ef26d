from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from vncoverage.config import Config, config_from_mapping, load_config
from vncoverage.errors import ConfigError


def test_defaults_follow_domain():
    c = Config()
    assert c.radio.rsrp_threshold_dbm["4G"] == -110
    assert c.radio.rx_height_m == 1.5
    assert c.radio.location_sigma_db == 8
    assert c.ftth.drop_reach_m == 300 and c.ftth.gpon_reach_m == 20_000
    assert c.ftth.straight_line_factor == 1.2
    assert c.study.working_crs == "EPSG:32648"


def test_unknown_keys_and_bad_types_all_reported():
    with pytest.raises(ConfigError) as err:
        config_from_mapping({"radio": {"modle": "itm", "rx_height_m": "tall"},
                             "outputs": {}})
    msg = str(err.value)
    assert "unknown key 'modle'" in msg and "rx_height_m" in msg and "[outputs]" in msg
    assert len(err.value.problems) == 3


def test_ranges_checked():
    with pytest.raises(ConfigError, match="location_probability"):
        config_from_mapping({"radio": {"location_probability": 1.5}})
    with pytest.raises(ConfigError, match="model"):
        config_from_mapping({"radio": {"model": "okumura"}})


def test_per_technology_tables_merge_with_defaults():
    c = config_from_mapping({"radio": {"max_radius_m": {"4G": 5000}}})
    assert c.radio.max_radius_m["4G"] == 5000 and c.radio.max_radius_m["5G"] == 3000
    with pytest.raises(ConfigError, match="unknown technology"):
        config_from_mapping({"radio": {"max_radius_m": {"6G": 5000}}})


def test_paths_relative_to_file_and_dates(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    p = tmp_path / "sub" / "c.toml"
    p.write_text('[inputs]\ncells = "../cells.csv"\n[kpi]\nplan_start = 2024-01-01\n',
                 encoding="utf-8")
    c = load_config(p)
    assert c.inputs.cells == (tmp_path / "cells.csv").resolve()
    assert c.kpi.plan_start == dt.date(2024, 1, 1)
    assert c.source == p


def test_missing_or_broken_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[radio\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_config_is_frozen():
    c = Config()
    with pytest.raises(AttributeError):
        c.radio.model = "fspl"  # type: ignore[misc]
    with pytest.raises(TypeError):
        c.radio.max_radius_m["4G"] = 1.0  # type: ignore[index]

"""A bad alerting file is refused at start, naming the rule (or section) and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.services.alerts.alerting_file import (
    AlertingFileError,
    load_alerting,
    parse_duration,
)

LISTS = ("ops-team", "trading-desk", "security-team", "senior-ops", "dev-lead", "management")
RULE = '[[rules]]\nname = "high_cpu"\nmetric = "cpu_percent"\nabove = 90\n'


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "alerting.toml"
    path.write_text(text)
    load_alerting(path, lists=LISTS)


@pytest.mark.parametrize(("text", "names"), [
    (RULE.replace("above = 90", 'above = "ninety"'), ("rule 'high_cpu'", "field 'above'")),
    (RULE.replace("cpu_percent", "cpu"), ("rule 'high_cpu'", "field 'metric'", "cpu_percent")),
    (RULE + 'for = "5 minutes"\n', ("rule 'high_cpu'", "field 'for'", '"5m"')),
    (RULE + 'severity = "urgent"\n', ("rule 'high_cpu'", "field 'severity'")),
    (RULE + "treshold = 3\n", ("rule 'high_cpu'", "field 'treshold'", "allowed")),
    (RULE + RULE, ("rule 'high_cpu'", "field 'name'", "another rule")),
    ('[[rules]]\nmetric = "cpu_percent"\nabove = 1\n', ("rule 1", "field 'name'", "required")),
    (RULE.replace('above = 90\n', ''), ("rule 'high_cpu'", "field 'above'", "required")),
    ('[routing]\ndefault = "ops"\n', ("[routing]", "field 'default'", "ops-team")),
    ('[[routing.routes]]\nto = "desk"\n', ("route 1", "field 'to'")),
    ('[[escalation.levels]]\nlevel = 2\nafter = "15m"\ncontacts = ["cto"]\n',
     ("escalation level 2", "field 'contacts'", "'cto'")),
    ('[[escalation.levels]]\nlevel = 3\nafter = "30m"\ncontacts = []\n'
     '[[escalation.levels]]\nlevel = 2\nafter = "15m"\ncontacts = []\n',
     ("escalation level 2", "field 'level'", "rise")),
    ("rules = [\n", ("not valid TOML",)),
    ("evaluate_every = 0\n", ("top level", "field 'evaluate_every'")),
])
def test_a_bad_file_names_the_rule_and_field(tmp_path: Path, text: str,
                                             names: tuple[str, ...]) -> None:
    with pytest.raises(AlertingFileError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert str(tmp_path / "alerting.toml") in message
    for name in names:
        assert name in message, message


def test_a_good_file_with_addresses_and_durations(tmp_path: Path) -> None:
    path = tmp_path / "alerting.toml"
    path.write_text(RULE + 'for = "5m"\nrepeat = 3600\n[[escalation.levels]]\nlevel = 2\n'
                    'after = "15m"\ncontacts = ["senior-ops", "pager@example.com"]\n')
    config = load_alerting(path, lists=LISTS)
    assert config.rules[0].for_s == 300 and config.rules[0].repeat_s == 3600
    assert config.escalation.levels[0].contacts == ("senior-ops", "pager@example.com")


def test_durations() -> None:
    assert [parse_duration(v) for v in (90, "30s", "5m", "1.5h", "2d")] == [
        90, 30, 300, 5400, 172800]
    for bad in ("5 minutes", "-1s", True, -3):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_the_platform_refuses_to_start_on_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "alerting.toml"
    path.write_text(RULE.replace("above = 90", 'above = "x"'))
    with pytest.raises(AlertingFileError, match="rule 'high_cpu': field 'above'"):
        bootstrap(Settings(data_dir=tmp_path, alerting_file=path))
    missing = tmp_path / "nope.toml"
    with pytest.raises(AlertingFileError, match="cannot be read"):
        bootstrap(Settings(data_dir=tmp_path, alerting_file=missing))

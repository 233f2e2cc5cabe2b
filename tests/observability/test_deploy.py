"""deploy/: the Grafana dashboard and the alert rules only use metrics Crier exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import Counter, Gauge, Histogram

from crier.observability import exposition, metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def exposed_names() -> set[str]:
    names = {
        metric._name for metric in vars(metrics).values() if isinstance(metric, (Counter, Gauge, Histogram))
    }
    snapshot = exposition.DatabaseSnapshot()
    snapshot.backlog, snapshot.oldest_due_seconds = 0, 0.0
    return names | {family.name for family in snapshot.collect()}


def referenced(expression: str) -> set[str]:
    return set(re.findall(r"\bcrier_[a-z_]+", expression))


def known(name: str, names: set[str]) -> bool:
    return name in names or any(
        name.endswith(suffix) and name[: -len(suffix)] in names for suffix in SUFFIXES
    )


def test_every_dashboard_query_uses_an_exposed_metric():
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    names = exposed_names()

    used = set().union(*(referenced(expression) for expression in expressions))
    assert used and all(known(name, names) for name in used), sorted(n for n in used if not known(n, names))
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_every_alert_rule_uses_an_exposed_metric():
    rules = [
        rule
        for group in yaml.safe_load((DEPLOY / "crier-alerts.yml").read_text())["groups"]
        for rule in group["rules"]
    ]
    names = exposed_names()

    for rule in rules:
        assert rule["alert"] and rule["annotations"]["summary"]
        unknown = [name for name in referenced(str(rule["expr"])) if not known(name, names)]
        assert not unknown, (rule["alert"], unknown)

"""The declared option table is what pytest registers, and it resolves into a RunConfig."""

from __future__ import annotations

import re

import pytest

from pytest_kubevirt_burner.options import GROUP_DESCRIPTION, OPTIONS, resolve


def _group_flags(help_text: str) -> list[str]:
    """Flags listed under the plugin's option group in ``pytest --help``."""
    lines = help_text.splitlines()
    start = lines.index(f"{GROUP_DESCRIPTION}:")
    flags: list[str] = []
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break
        match = re.match(r"^  (--[a-z0-9-]+)", line)
        if match:
            flags.append(match.group(1))
    return flags


def test_declared_options_are_registered_with_their_defaults(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfig()
    for decl in OPTIONS:
        expected = list(decl.default or []) if decl.kind == "list" else decl.default
        assert config.getoption(decl.dest) == expected, decl.flag
        if decl.ini:
            assert config.getini(decl.ini) == (False if decl.kind == "bool" else ""), decl.ini


def test_help_lists_exactly_the_declared_flags_and_ini_names(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    assert _group_flags(text) == [d.flag for d in OPTIONS]
    for decl in OPTIONS:
        if decl.ini:
            assert re.search(rf"^  {decl.ini} \({decl.ini_type}\):", text, re.M), decl.ini


def test_public_names_are_unchanged() -> None:
    flags = {d.flag: d.ini for d in OPTIONS}
    assert flags["--kube-config"] == "kube_config"
    assert flags["--metrics-directory"] == "metrics_directory"
    assert flags["--prometheus-url"] == "prometheus_url"
    assert flags["--es-server"] == "es_server"
    assert flags["--es-index"] == "es_index"
    assert flags["--latency-clock"] == "latency_clock"
    assert flags["--burner-regression"] is None
    assert len(flags) == len(OPTIONS)


def test_ini_values_resolve_and_the_command_line_wins(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        kube_sim_nodes = 5
        burner_scale = 0.5
        metrics_directory = from-ini
        prometheus_url = http://prom.example:9090
        es_server = http://es.example:9200
        es_index = perf
        latency_clock = server
        """
    )
    run = resolve(pytester.parseconfig("--metrics-directory", "from-cli", "--kube-sim"))
    assert (run.kube_sim_nodes, run.scale, run.latency_clock) == (5, 0.5, "server")
    assert str(run.metrics_directory) == "from-cli"
    assert run.kube_sim and run.kube_config is None
    assert run.prometheus_url == "http://prom.example:9090"
    assert run.observability.es_index == "perf"
    assert run.es_server == "http://es.example:9200"
    assert run.observability.wanted


def test_defaults_resolve(pytester: pytest.Pytester) -> None:
    run = resolve(pytester.parseconfig("--metrics-profile", "a.yml", "--metrics-profile", "b.yml"))
    assert (run.kube_sim_nodes, run.scale, run.latency_clock) == (3, 1.0, "client")
    assert str(run.metrics_directory) == "collected-metrics"
    assert run.observability.metrics_profiles == ("a.yml", "b.yml")
    assert run.observability.prometheus_step == "30s"
    assert run.observability.es_index == "kube-burner"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--burner-scale", "0"], "--burner-scale: must be > 0, got 0.0"),
        (["--kube-sim-nodes", "0"], "--kube-sim-nodes: must be >= 1, got 0"),
        (["--burner-uuid", "a b"], "--burner-uuid: must be a valid label value"),
        (["--kube-sim", "--kube-config", "x"], "--kube-sim and --kube-config exclude each other"),
    ],
)
def test_bad_values_are_one_line_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    with pytest.raises(pytest.UsageError, match=re.escape(message)):
        resolve(pytester.parseconfig(*args))


def test_bad_ini_number_names_the_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nkube_sim_nodes = many\n")
    with pytest.raises(pytest.UsageError, match=r"--kube-sim-nodes: not an integer: 'many'"):
        resolve(pytester.parseconfig())

"""Latency profiles: named profiles, YAML files, distributions, seeds and error messages."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_kubevirt_burner.sim.profiles import (
    KNOWN_TRANSITIONS,
    Distribution,
    load_profile,
)


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return str(path)


def test_fast_profile_is_tens_of_milliseconds() -> None:
    prof = load_profile("fast")
    rng = random.Random(1)
    values = [prof.sample(t, rng) for t in sorted(KNOWN_TRANSITIONS) for _ in range(20)]
    assert prof.name == "fast"
    assert all(0.005 <= v <= 0.03 for v in values)


def test_realistic_profile_totals() -> None:
    prof = load_profile("realistic")
    rng = random.Random(7)

    def total(keys: list[str]) -> list[float]:
        return [sum(prof.sample(k, rng) for k in keys) for _ in range(200)]

    pod = total(["Pod.PodScheduled", "Pod.Initialized", "Pod.ContainersReady", "Pod.Ready"])
    assert min(pod) >= 0.7 and max(pod) <= 3.0
    assert all(0.05 <= prof.sample("Pod.PodScheduled", rng) <= 0.2 for _ in range(50))
    vmi = total([f"VirtualMachineInstance.{s}" for s in ("Scheduling", "Scheduled", "Running")])
    vmi = [v + prof.sample("VirtualMachine.Ready", rng) for v in vmi]
    assert min(vmi) >= 9.0 and max(vmi) <= 20.0
    phases = ("Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded")
    mig = total([f"VirtualMachineInstanceMigration.{p}" for p in phases])
    assert min(mig) >= 5.0 and max(mig) <= 10.0
    dv = total([f"DataVolume.{p}" for p in ("ImportScheduled", "ImportInProgress", "Succeeded")])
    assert min(dv) >= 10.0 and max(dv) <= 30.0


def test_every_known_transition_is_configured_in_realistic() -> None:
    prof = load_profile("realistic")
    assert set(prof.transitions) == set(KNOWN_TRANSITIONS)


def test_same_seed_same_delays_and_seed_override() -> None:
    a, b = load_profile("realistic"), load_profile("realistic")
    ra, rb = a.rng(), b.rng()
    seq_a = [a.sample("Pod.ContainersReady", ra) for _ in range(50)]
    seq_b = [b.sample("Pod.ContainersReady", rb) for _ in range(50)]
    assert seq_a == seq_b
    c = load_profile("realistic", seed=99)
    assert c.seed == 99
    rc = c.rng()
    assert [c.sample("Pod.ContainersReady", rc) for _ in range(50)] != seq_a


@pytest.mark.parametrize(
    ("kind", "spec", "check"),
    [
        ("fixed", {"value": 0.25}, lambda v: v == [0.25] * len(v)),
        ("uniform", {"low": 1.0, "high": 2.0}, lambda v: all(1.0 <= x <= 2.0 for x in v)),
        ("normal", {"mean": 1.0, "stddev": 0.1}, lambda v: abs(statistics.mean(v) - 1) < 0.05),
        ("lognormal", {"median": 2.0, "sigma": 0.2}, lambda v: abs(statistics.median(v) - 2) < 0.2),
        ("exponential", {"mean": 0.5}, lambda v: abs(statistics.mean(v) - 0.5) < 0.1),
    ],
)
def test_distributions(
    tmp_path: Path, kind: str, spec: dict[str, float], check: Callable[[list[float]], bool]
) -> None:
    params = "\n".join(f"    {k}: {v}" for k, v in spec.items())
    path = _write(tmp_path, f"transitions:\n  Pod.Ready:\n    distribution: {kind}\n{params}\n")
    prof = load_profile(path)
    rng = random.Random(3)
    values = [prof.sample("Pod.Ready", rng) for _ in range(500)]
    assert check(values)
    assert all(v >= 0 for v in values)


def test_clamps_and_never_negative() -> None:
    dist = Distribution("normal", {"mean": 0.0, "stddev": 5.0}, min=None, max=1.0)
    rng = random.Random(0)
    values = [dist.sample(rng) for _ in range(300)]
    assert all(0.0 <= v <= 1.0 for v in values)
    clamped = Distribution("uniform", {"low": 0.0, "high": 10.0}, min=2.0, max=3.0)
    assert all(2.0 <= clamped.sample(rng) <= 3.0 for _ in range(100))


def test_yaml_extends_default_and_seed(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "seed: 42\nextends: realistic\n"
        "default: {distribution: fixed, value: 0.5}\n"
        "transitions:\n  Pod.Ready: {distribution: fixed, value: 0.1, max: 0.05}\n"
        "  Widget.Ready: {distribution: uniform, low: 1, high: 2}\n",
    )
    prof = load_profile(path)
    rng = random.Random(0)
    assert prof.seed == 42 and prof.name == "profile"
    assert prof.sample("Pod.Ready", rng) == 0.05
    assert prof.sample("Unconfigured.Thing", rng) == 0.5
    assert 2.0 <= prof.sample("VirtualMachineInstance.Scheduled", rng) <= 4.0
    assert 1.0 <= prof.sample("Widget.Ready", rng) <= 2.0
    assert load_profile(path, seed=5).seed == 5


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("bogus: 1\n", "unknown key 'bogus'"),
        ("transitions:\n  Pod.Ready: {distribution: weibull, k: 1}\n", "unknown distribution"),
        ("transitions:\n  Pod.Ready: {distribution: fixed, value: 1, low: 0}\n", "'low'"),
        ("transitions:\n  Pod.Ready: {distribution: uniform, low: 1}\n", "needs high"),
        ("transitions:\n  Pod.Ready: {distribution: uniform, low: 2, high: 1}\n", "low must"),
        ("transitions:\n  Pod.Redy: {distribution: fixed, value: 1}\n", "Pod.Redy"),
        ("transitions:\n  notakey: {distribution: fixed, value: 1}\n", "notakey"),
        ("transitions:\n  Pod.Ready: {distribution: fixed, value: -1}\n", "Pod.Ready.value"),
        ("transitions:\n  Pod.Ready: {distribution: fixed, value: abc}\n", "Pod.Ready.value"),
        ("extends: slow\n", "extends"),
        ("seed: abc\n", "seed"),
        ("default: 3\n", "default"),
        ("- a\n- b\n", "mapping"),
        ("transitions: [\n", "invalid YAML"),
    ],
)
def test_yaml_errors_name_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_profile(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(path)
    assert fragment in message


def test_unknown_profile_name() -> None:
    with pytest.raises(ValueError, match="no such profile"):
        load_profile("does-not-exist")

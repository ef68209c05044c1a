"""Seeded latency profiles: how long each simulated transition takes (fast, realistic, YAML)."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_PARAMS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "normal": ("mean", "stddev"),
    "lognormal": ("median", "sigma"),
    "exponential": ("mean",),
}
_TOP_KEYS = ("name", "seed", "transitions", "default", "extends")

# Every delay key a built-in controller asks for; kinds not listed here (custom resources) may use
# any ``<Kind>.<Transition>`` key.
KNOWN_TRANSITIONS: frozenset[str] = frozenset(
    {
        "Node.Ready",
        "Pod.PodScheduled",
        "Pod.Initialized",
        "Pod.ContainersReady",
        "Pod.Ready",
        "Pod.Deleted",
        "Job.Complete",
        "PersistentVolumeClaim.Bound",
        "VirtualMachineInstance.Scheduling",
        "VirtualMachineInstance.Scheduled",
        "VirtualMachineInstance.Running",
        "VirtualMachineInstance.Succeeded",
        "VirtualMachineInstance.Paused",
        "VirtualMachineInstance.Unpaused",
        "VirtualMachine.Ready",
        "VirtualMachineInstanceMigration.Scheduling",
        "VirtualMachineInstanceMigration.Scheduled",
        "VirtualMachineInstanceMigration.PreparingTarget",
        "VirtualMachineInstanceMigration.TargetReady",
        "VirtualMachineInstanceMigration.Running",
        "VirtualMachineInstanceMigration.Succeeded",
        "DataVolume.ImportScheduled",
        "DataVolume.ImportInProgress",
        "DataVolume.Succeeded",
    }
)
_KNOWN_KINDS = frozenset(t.split(".", 1)[0] for t in KNOWN_TRANSITIONS)
_KEY_RE = re.compile(r"^[A-Z][A-Za-z0-9]*\.[A-Za-z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class Distribution:
    """A delay distribution in seconds, clamped to ``[min, max]`` and never negative."""

    kind: str
    params: Mapping[str, float]
    min: float | None = None
    max: float | None = None

    def sample(self, rng: random.Random) -> float:
        """One delay drawn with ``rng``."""
        p = self.params
        if self.kind == "fixed":
            value = p["value"]
        elif self.kind == "uniform":
            value = rng.uniform(p["low"], p["high"])
        elif self.kind == "normal":
            value = rng.gauss(p["mean"], p["stddev"])
        elif self.kind == "lognormal":
            value = rng.lognormvariate(math.log(p["median"]), p["sigma"])
        else:
            value = rng.expovariate(1.0 / p["mean"]) if p["mean"] > 0 else 0.0
        if self.min is not None:
            value = max(value, self.min)
        if self.max is not None:
            value = min(value, self.max)
        return max(0.0, value)


def uniform(low: float, high: float) -> Distribution:
    """Uniform on ``[low, high]`` seconds."""
    return Distribution("uniform", {"low": low, "high": high})


@dataclass
class Profile:
    """Named set of per-transition delay distributions plus the seed of the simulator RNG."""

    name: str
    seed: int
    transitions: Mapping[str, Distribution] = field(default_factory=dict)
    default: Distribution = field(default_factory=lambda: uniform(0.005, 0.03))

    def sample(self, transition: str, rng: random.Random) -> float:
        """Seconds to wait before ``transition`` (the profile default when not configured)."""
        return self.transitions.get(transition, self.default).sample(rng)

    def rng(self) -> random.Random:
        """A fresh RNG seeded with the profile's seed."""
        return random.Random(self.seed)


def _fast() -> Profile:
    return Profile("fast", 0, {}, uniform(0.005, 0.03))


def _realistic() -> Profile:
    t = {
        "Node.Ready": uniform(0.3, 1.0),
        "Pod.PodScheduled": uniform(0.05, 0.2),
        "Pod.Initialized": uniform(0.2, 0.6),
        "Pod.ContainersReady": Distribution(
            "lognormal", {"median": 0.9, "sigma": 0.3}, min=0.4, max=1.8
        ),
        "Pod.Ready": uniform(0.05, 0.3),
        "Pod.Deleted": uniform(0.5, 2.0),
        "Job.Complete": uniform(2.0, 5.0),
        "PersistentVolumeClaim.Bound": uniform(0.5, 2.0),
        "VirtualMachineInstance.Scheduling": uniform(0.5, 1.5),
        "VirtualMachineInstance.Scheduled": uniform(2.0, 4.0),
        "VirtualMachineInstance.Running": uniform(6.0, 12.0),
        "VirtualMachineInstance.Succeeded": uniform(2.0, 5.0),
        "VirtualMachineInstance.Paused": uniform(0.2, 1.0),
        "VirtualMachineInstance.Unpaused": uniform(0.2, 1.0),
        "VirtualMachine.Ready": uniform(0.2, 1.0),
        "VirtualMachineInstanceMigration.Scheduling": uniform(0.5, 1.0),
        "VirtualMachineInstanceMigration.Scheduled": uniform(1.0, 2.0),
        "VirtualMachineInstanceMigration.PreparingTarget": uniform(1.0, 1.5),
        "VirtualMachineInstanceMigration.TargetReady": uniform(0.5, 1.5),
        "VirtualMachineInstanceMigration.Running": uniform(0.5, 1.0),
        "VirtualMachineInstanceMigration.Succeeded": uniform(1.5, 3.0),
        "DataVolume.ImportScheduled": uniform(1.0, 3.0),
        "DataVolume.ImportInProgress": uniform(2.0, 5.0),
        "DataVolume.Succeeded": uniform(7.0, 22.0),
    }
    return Profile("realistic", 0, t, uniform(0.1, 0.5))


NAMED = {"fast": _fast, "realistic": _realistic}


def _number(src: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{src}: {key} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{src}: {key} must be a finite number >= 0, got {value!r}")
    return float(value)


def parse_distribution(src: str, key: str, spec: Any) -> Distribution:
    """A Distribution from its YAML mapping; ValueError naming ``src`` and ``key`` when invalid."""
    if not isinstance(spec, dict):
        raise ValueError(f"{src}: {key} must be a mapping with a 'distribution' key")
    kind = spec.get("distribution")
    if kind not in _PARAMS:
        raise ValueError(
            f"{src}: {key}: unknown distribution {kind!r} (one of {', '.join(_PARAMS)})"
        )
    names = _PARAMS[kind]
    for k in spec:
        if k not in (*names, "distribution", "min", "max"):
            raise ValueError(f"{src}: {key}: unknown key {k!r} for distribution {kind!r}")
    missing = [n for n in names if n not in spec]
    if missing:
        raise ValueError(f"{src}: {key}: distribution {kind!r} needs {', '.join(missing)}")
    params = {n: _number(src, f"{key}.{n}", spec[n]) for n in names}
    if kind == "uniform" and params["low"] > params["high"]:
        raise ValueError(f"{src}: {key}: low must not exceed high")
    if kind == "lognormal" and params["median"] <= 0:
        raise ValueError(f"{src}: {key}.median must be > 0")
    lo = _number(src, f"{key}.min", spec["min"]) if "min" in spec else None
    hi = _number(src, f"{key}.max", spec["max"]) if "max" in spec else None
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"{src}: {key}: min must not exceed max")
    return Distribution(kind, params, lo, hi)


def _check_transition(src: str, key: Any) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(f"{src}: transitions: invalid key {key!r} (expected <Kind>.<Transition>)")
    if key.split(".", 1)[0] in _KNOWN_KINDS and key not in KNOWN_TRANSITIONS:
        raise ValueError(f"{src}: transitions: unknown transition {key!r}")
    return key


def _from_yaml(path: Path, seed: int | None) -> Profile:
    src = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{src}: invalid YAML: {first}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{src}: a profile must be a mapping")
    for k in data:
        if k not in _TOP_KEYS:
            raise ValueError(f"{src}: unknown key {k!r} (allowed: {', '.join(_TOP_KEYS)})")
    base = _fast()
    if "extends" in data:
        if data["extends"] not in NAMED:
            raise ValueError(f"{src}: extends: unknown profile {data['extends']!r}")
        base = NAMED[data["extends"]]()
    file_seed = data.get("seed", base.seed)
    if isinstance(file_seed, bool) or not isinstance(file_seed, int):
        raise ValueError(f"{src}: seed must be an integer, got {file_seed!r}")
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise ValueError(f"{src}: name must be a string")
    transitions = dict(base.transitions)
    raw = data.get("transitions") or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{src}: transitions must be a mapping")
    for key, spec in raw.items():
        transitions[_check_transition(src, key)] = parse_distribution(src, str(key), spec)
    default = base.default
    if "default" in data:
        default = parse_distribution(src, "default", data["default"])
    return Profile(name, file_seed if seed is None else seed, transitions, default)


def load_profile(name_or_file: str, seed: int | None = None) -> Profile:
    """The named profile (``fast``, ``realistic``) or one read from a YAML file; ``seed`` wins."""
    if name_or_file in NAMED:
        prof = NAMED[name_or_file]()
        return prof if seed is None else Profile(prof.name, seed, prof.transitions, prof.default)
    path = Path(name_or_file)
    if not path.is_file():
        raise ValueError(
            f"{name_or_file}: no such profile (use {', '.join(NAMED)} or a YAML file path)"
        )
    return _from_yaml(path, seed)

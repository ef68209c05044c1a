"""The watch ring: bounds, replay order, and replays that equal live delivery for any selector."""

from __future__ import annotations

import random

import orjson
import pytest

from pytest_kubevirt_burner.sim.context import GroundTruth, SimContext
from pytest_kubevirt_burner.sim.registry import Registry
from pytest_kubevirt_burner.sim.selectors import parse_field_selector, parse_label_selector
from pytest_kubevirt_burner.sim.store import Store
from pytest_kubevirt_burner.sim.watchhub import Watcher, WatchHub, compile_matcher
from pytest_kubevirt_burner.sim.watchring import EventRing, Views, _Rec

SELECTORS = [
    (None, None),
    ("app=x", None),
    ("app!=x", None),
    ("tier in (1,2)", None),
    ("tier notin (3)", "status.podIP=10.0.0.1"),
    (None, "spec.nodeName=n1"),
    (None, "spec.nodeName="),
    (None, "status.phase=Running"),
    ("app=x", "status.phase!=Running"),
    (None, "metadata.name=p3"),
]


class _Profile:
    name = "zero"

    def sample(self, transition: str, rng: random.Random) -> float:
        return 0.0


def _rec(rv: int, size: int) -> _Rec:
    return _Rec(rv, "/pods", "a", "ADDED", (), None, b"x" * size)


def test_ring_bounded_by_count_and_bytes() -> None:
    ring = EventRing(3, None, 10)
    for rv in range(11, 16):
        ring.append(_rec(rv, 5))
    assert len(ring) == 3 and ring.floor == 12 and ring.nbytes == 15
    assert [r.rv for r in ring.since(12)] == [13, 14, 15]
    assert [r.rv for r in ring.since(14)] == [15]
    assert list(ring.since(15)) == []
    by_bytes = EventRing(100, 10, 0)
    for rv in (1, 2, 3):
        by_bytes.append(_rec(rv, 4))
    assert [r.rv for r in by_bytes.since(0)] == [2, 3] and by_bytes.floor == 1
    by_bytes.append(_rec(4, 50))  # one record larger than the bound is still kept
    assert [r.rv for r in by_bytes.since(0)] == [4] and by_bytes.nbytes == 50


def test_views_judge_like_the_object() -> None:
    pods = Registry.builtin().core("pods")
    pod = {
        "metadata": {"name": "p", "namespace": "a", "labels": {"app": "x"}},
        "spec": {"nodeName": "n1", "containers": []},
        "status": {"phase": "Running", "podIP": "10.0.0.1"},
    }
    views = Views()
    view = views.expand(pods, "a", views.compact(pods, pod))
    for label, field in SELECTORS:
        for sel in (
            parse_label_selector(label) if label else None,
            parse_field_selector(field, "pods", "") if field else None,
        ):
            if sel is not None:
                assert sel(view) == sel(pod), (label, field)


def _mutate(rng: random.Random, pod: dict[str, object]) -> None:
    r = rng.random()
    meta, spec = pod["metadata"], pod["spec"]
    status = pod.setdefault("status", {})
    assert isinstance(meta, dict) and isinstance(spec, dict) and isinstance(status, dict)
    if r < 0.3:
        meta["labels"] = {"app": rng.choice("xy"), "tier": rng.choice("123")}
    elif r < 0.5:
        spec["nodeName"] = rng.choice(["n1", "n2"])
    elif r < 0.8:
        status["phase"] = rng.choice(["Pending", "Running"])
    else:
        status["podIP"] = rng.choice(["10.0.0.1", "10.0.0.2"])


@pytest.mark.parametrize("seed", [7, 8])
def test_replay_equals_live_delivery(seed: int) -> None:
    reg = Registry.builtin()
    store = Store(reg, default_namespaces=("a", "b"))
    ctx = SimContext(store=store, registry=reg, profile=_Profile(),
                     ground_truth=GroundTruth(None), rng=random.Random(1))  # fmt: skip
    hub = WatchHub(ctx, buffer_size=100_000)
    pods = reg.core("pods")
    start = store.rv
    live: dict[tuple[str | None, str | None, str | None], Watcher] = {}
    for ns in (None, "a"):
        for label, field in SELECTORS:
            w = Watcher(pods.key, ns, compile_matcher(pods, label, field), 10**6)
            hub._watchers.setdefault(pods.key, set()).add(w)
            live[(ns, label, field)] = w
    rng = random.Random(seed)
    for _ in range(300):
        ns, name = rng.choice("ab"), f"p{rng.randrange(6)}"
        if store.get(pods, ns, name) is None:
            labels = {"app": rng.choice("xy"), "tier": rng.choice("123")}
            spec = {"containers": [{"name": "c", "image": "i"}]}
            store.create(pods, {"metadata": {"name": name, "labels": labels}, "spec": spec}, ns)
        elif rng.random() < 0.15:
            store.delete(pods, ns, name, grace_period_seconds=0)
        else:
            store.mutate(pods, ns, name, lambda p: _mutate(rng, p))
    middle = start + (store.rv - start) // 2
    kinds: set[str] = set()
    for (ns, label, field), w in live.items():
        assert w.lines, (ns, label, field)
        for since in (start, middle):
            replayed = Watcher(pods.key, ns, compile_matcher(pods, label, field), 10**6)
            hub._replay(pods, replayed, since)
            events = [orjson.loads(line) for line in w.lines]
            want = [
                line
                for line, ev in zip(w.lines, events, strict=True)
                if int(ev["object"]["metadata"]["resourceVersion"]) > since
            ]
            kinds.update(ev["type"] for ev in events)
            assert list(replayed.lines) == want, (ns, label, field, since)
    assert kinds == {"ADDED", "MODIFIED", "DELETED"}

"""Client-side label selectors and the sharing of one watch between consumers of a kind."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_kubevirt_burner.jobs.selectors import label_matcher
from pytest_kubevirt_burner.jobs.watches import JobWatches

LABELS = {"app": "web", "kube-burner.io/index": "1", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("kube-burner.io/index in (0,1)", True),
        ("kube-burner.io/index in (0, 2)", False),
        ("kube-burner.io/index notin (0,2)", True),
        ("missing notin (a)", True),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("app=web,kube-burner.io/index in (1),tier=front", True),
        ("app=web,tier=back", False),
        ("", True),
    ],
)
def test_label_matcher_agrees_with_the_api_server(selector: str, expected: bool) -> None:
    match = label_matcher(selector)
    assert match is not None
    assert match(LABELS) is expected


def test_unsupported_selector_is_none() -> None:
    assert label_matcher("app in web") is None
    assert label_matcher("a=b=c") is None


class FakeWatch:
    def __init__(self, kind: str, selector: str, callback: Any) -> None:
        self.kind, self.selector, self.callback = kind, selector, callback

    def start(self) -> None:
        pass

    def wait_synced(self, timeout: float) -> bool:
        return True

    def stop(self, timeout: float = 5.0) -> None:
        pass


def _pod(index: str, launcher: bool = False) -> dict[str, Any]:
    labels = {"kube-burner.io/index": index}
    if launcher:
        labels["kubevirt.io"] = "virt-launcher"
    return {"kind": "Pod", "metadata": {"uid": index, "labels": labels}}


def test_narrow_consumers_share_the_broad_watch_and_filter() -> None:
    made: list[FakeWatch] = []

    def factory(api_version: str, kind: str, selector: str, callback: Any) -> FakeWatch:
        made.append(FakeWatch(kind, selector, callback))
        return made[-1]

    got: dict[str, list[str]] = {"all": [], "own": [], "launcher": []}
    watches = JobWatches(factory, "run=1")
    watches.add("v1", "Pod", lambda t, o, n: got["all"].append(o["metadata"]["uid"]))
    watches.add(
        "v1",
        "Pod",
        lambda t, o, n: got["own"].append(o["metadata"]["uid"]),
        "kube-burner.io/index in (0)",
    )
    watches.add(
        "v1",
        "Pod",
        lambda t, o, n: got["launcher"].append(o["metadata"]["uid"]),
        "kubevirt.io=virt-launcher",
    )
    watches.add("v1", "Node", lambda t, o, n: None, "role=worker")
    watches.start()
    assert sorted((w.kind, w.selector) for w in made) == [
        ("Node", "run=1,role=worker"),
        ("Pod", "run=1"),
    ]
    pods = next(w for w in made if w.kind == "Pod")
    for obj in (_pod("0"), _pod("1", launcher=True)):
        pods.callback("ADDED", obj, 0)
    assert got == {"all": ["0", "1"], "own": ["0"], "launcher": ["1"]}
    watches.stop()


def test_unparsable_extra_selector_keeps_its_own_watch() -> None:
    made: list[str] = []

    def factory(api_version: str, kind: str, selector: str, callback: Any) -> FakeWatch:
        made.append(selector)
        return FakeWatch(kind, selector, callback)

    watches = JobWatches(factory, "run=1")
    watches.add("v1", "Pod", lambda t, o, n: None)
    watches.add("v1", "Pod", lambda t, o, n: None, "weird selector (")
    watches.start()
    assert sorted(made) == ["run=1", "run=1,weird selector ("]

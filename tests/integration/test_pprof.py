"""pprof collection from the simulator's /debug/pprof through ClusterClient."""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_kubevirt_burner.cluster import ClusterClient
from pytest_kubevirt_burner.metrics.pprof import PprofCollector, PprofTarget, parse_targets
from pytest_kubevirt_burner.sim.process import SimProcess

from ._simproc import pod, running, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterClient]:
    """A simulator with one running pod labelled app=sim-test, and a client for it."""
    with running(tmp_path_factory.mktemp("pprof-sim"), nodes=1, profile="fast") as sim:
        assert isinstance(sim, SimProcess)
        with ClusterClient.from_config(str(sim.kubeconfig)) as client:
            obj = pod("component-0")
            obj["metadata"]["namespace"] = "default"
            client.create(obj)
            wait_for(
                lambda: (
                    client.get("v1", "Pod", "component-0", "default").get("status", {}).get("phase")
                    == "Running"
                )
            )
            yield client


NAME = re.compile(r"^job-1-(heap|cpu)-apiserver-\d{8}T\d{6}\.\d{3}Z\.pprof$")


def test_apiserver_profiles_at_start_interval_and_end(
    cluster: ClusterClient, tmp_path: Path
) -> None:
    targets, warnings = parse_targets(
        [
            {"name": "heap", "url": "/debug/pprof/heap"},
            {"name": "cpu", "url": "/debug/pprof/profile?seconds=1"},
        ]
    )
    assert warnings == []
    collector = PprofCollector(cluster, targets, tmp_path, "job-1", interval=0.3)
    began = time.monotonic()
    collector.start()
    assert time.monotonic() - began >= 1.0  # the CPU profile ran for its seconds
    time.sleep(0.5)
    files = collector.stop()
    assert collector.warnings == []
    assert len(files) >= 6  # start + at least one interval + end, for both targets
    assert all(f.parent == tmp_path / "pprof" and NAME.match(f.name) for f in files)
    assert {NAME.match(f.name).group(1) for f in files} == {"heap", "cpu"}  # type: ignore[union-attr]
    for f in files:
        data = f.read_bytes()
        assert data[:2] == b"\x1f\x8b"  # gzipped protobuf, saved as served
        assert gzip.decompress(data)
    assert collector.stop() == files  # idempotent, no extra collection


def test_pod_targets_go_through_the_pod_proxy(cluster: ClusterClient, tmp_path: Path) -> None:
    targets, warnings = parse_targets(
        [
            {
                "name": "virt",
                "namespace": "default",
                "labelSelector": "app=sim-test",
                "url": "https://localhost:8443/debug/pprof/heap",
                "bearerToken": "never-sent",
            }
        ]
    )
    assert warnings == [
        "pprof target virt: bearerToken not used (profiles are fetched with the cluster"
        " credentials through the API server)"
    ]
    collector = PprofCollector(cluster, targets, tmp_path, "job-1")
    collector.start()
    files = collector.stop()
    # fetched through the simulator's pod proxy, at job start and job end
    assert collector.warnings == []
    assert len(files) == 2 and all("component-0" in f.name for f in files), files
    for f in files:
        assert gzip.decompress(f.read_bytes())
    # no pod matches the selector: reported, nothing collected
    gone = PprofCollector(
        cluster,
        [PprofTarget("virt", "https://localhost:8443/debug/pprof/heap", "default", "app=none")],
        tmp_path,
        "job-2",
    )
    gone.collect()
    assert gone.warnings == ["pprof target virt: no running pod matches"]
    none = PprofCollector(
        cluster, [PprofTarget("x", "http://l:1/debug/pprof/heap", "default", "app=none")],
        tmp_path, "job-1",
    )  # fmt: skip
    none.collect()
    assert none.warnings == ["pprof target x: no running pod matches"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "a", "url": "/x", "nodeAffinity": {}}, "unknown key 'nodeAffinity'"),
        ({"name": "a"}, "name and url are required"),
        ({"name": "a", "namespace": "n", "url": "/debug/pprof/heap"}, "must name the pod port"),
    ],
)
def test_invalid_targets(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_targets([entry])

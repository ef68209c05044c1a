"""LIST: limit/continue paging, selectors and resourceVersion rules."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from . import simserver
from .simserver import SimServer

NS = "default"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A simulator with a small event buffer (continue tokens expire quickly)."""
    yield from simserver.running(tmp_path_factory.mktemp("sim"), watch_buffer=200)


@pytest.fixture(scope="module", autouse=True)
def configmaps(core: Any) -> None:
    for i in range(23):
        core.create_namespaced_config_map(
            NS,
            {
                "metadata": {
                    "name": f"cm{i:02d}",
                    "labels": {"parity": ["even", "odd"][i % 2], "idx": str(i)},
                }
            },
        )


def page_all(core: Any, limit: int, **kw: Any) -> tuple[list[str], set[str]]:
    names: list[str] = []
    rvs: set[str] = set()
    token = None
    while True:
        out = core.list_namespaced_config_map(NS, limit=limit, _continue=token, **kw)
        names += [c.metadata.name for c in out.items]
        rvs.add(out.metadata.resource_version)
        token = out.metadata._continue
        if not token:
            return names, rvs
        assert out.metadata.remaining_item_count == 23 - len(names) or kw


def test_paging_returns_every_item_once(core: Any) -> None:
    names, rvs = page_all(core, 5)
    assert names == [f"cm{i:02d}" for i in range(23)]
    assert len(rvs) == 1


def test_paging_is_consistent_under_writes(core: Any) -> None:
    first = core.list_namespaced_config_map(NS, limit=10)
    core.create_namespaced_config_map(NS, {"metadata": {"name": "cm00a"}})
    core.delete_namespaced_config_map("cm15", NS)
    rest = core.list_namespaced_config_map(NS, limit=100, _continue=first.metadata._continue)
    names = [c.metadata.name for c in first.items + rest.items]
    assert names == [f"cm{i:02d}" for i in range(23)]
    assert rest.metadata.resource_version == first.metadata.resource_version
    core.delete_namespaced_config_map("cm00a", NS)
    core.create_namespaced_config_map(
        NS, {"metadata": {"name": "cm15", "labels": {"parity": "odd", "idx": "15"}}}
    )


def test_continue_token_format(core: Any) -> None:
    out = core.list_namespaced_config_map(NS, limit=1)
    token = out.metadata._continue
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert data["rv"] == int(out.metadata.resource_version)
    assert data["start"].startswith(f"{NS}/cm00")


def test_paging_with_label_selector(core: Any) -> None:
    names, _ = page_all(core, 4, label_selector="parity=odd")
    assert names == [f"cm{i:02d}" for i in range(1, 23, 2)]


def test_label_and_field_selectors(core: Any) -> None:
    odd = core.list_namespaced_config_map(NS, label_selector="parity=odd,idx in (1,3,4)")
    assert [c.metadata.name for c in odd.items] == ["cm01", "cm03"]
    one = core.list_namespaced_config_map(NS, field_selector="metadata.name=cm07")
    assert [c.metadata.name for c in one.items] == ["cm07"]
    none = core.list_namespaced_config_map(NS, label_selector="!parity")
    assert none.items == []


def test_stale_continue_token_is_410(core: Any) -> None:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": 1, "start": f"{NS}/cm05\x00"}).encode()
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for i in range(210):  # push rv 1 out of the event buffer
        core.create_namespaced_config_map(NS, {"metadata": {"name": f"x{i:03d}"}})
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, limit=5, _continue=token)
    assert exc.value.status == 410
    assert json.loads(exc.value.body)["reason"] == "Expired"
    core.delete_collection_namespaced_config_map(NS, label_selector="!parity")


def test_malformed_continue_is_400(core: Any) -> None:
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, limit=5, _continue="%%%garbage")
    assert exc.value.status == 400


def test_resource_version_rules(core: Any) -> None:
    current = core.list_namespaced_config_map(NS).metadata.resource_version
    # not older than: served from current state
    assert core.list_namespaced_config_map(NS, resource_version="1").items
    assert core.list_namespaced_config_map(NS, resource_version="0", limit=3).items
    # exact (limit without continue) for an old RV: 410
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, resource_version="1", limit=3)
    assert exc.value.status == 410
    exact = core.list_namespaced_config_map(
        NS, resource_version=current, limit=3, resource_version_match="Exact"
    )
    assert exact.metadata.resource_version == current
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, resource_version_match="NotOlderThan")
    assert exc.value.status == 400
    first = core.list_namespaced_config_map(NS, limit=2)
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(
            NS, limit=2, _continue=first.metadata._continue, resource_version=current
        )
    assert exc.value.status == 400
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(NS, resource_version="abc")
    assert exc.value.status == 400

"""Pure pieces of the HTTP layer: continue tokens, version ordering, watch selector transitions."""

from __future__ import annotations

import asyncio

import pytest

from pytest_kubevirt_burner.sim.discovery import version_priority
from pytest_kubevirt_burner.sim.errors import ApiError
from pytest_kubevirt_burner.sim.listing import decode_continue, encode_continue
from pytest_kubevirt_burner.sim.registry import Registry
from pytest_kubevirt_burner.sim.watchhub import Encoder, Watcher, _Rec, compile_matcher


def test_continue_token_round_trip() -> None:
    token = encode_continue(42, ("ns-a", "pod-1"))
    assert decode_continue(token, namespaced=True) == (42, ("ns-a", "pod-1"))
    assert decode_continue(encode_continue(7, ("", "node")), namespaced=False) == (7, ("", "node"))
    with pytest.raises(ApiError) as exc:
        decode_continue("not-a-token", namespaced=True)
    assert exc.value.code == 400


def test_version_priority_prefers_ga_then_beta() -> None:
    versions = ["v1alpha1", "v1beta1", "v2", "v1", "v2beta3"]
    assert sorted(versions, key=version_priority, reverse=True) == [
        "v2",
        "v1",
        "v2beta3",
        "v1beta1",
        "v1alpha1",
    ]


def test_encoder_reuses_bytes_per_version() -> None:
    enc = Encoder()
    obj = {"metadata": {"uid": "u", "resourceVersion": "1"}, "x": 1}
    first = enc.encode(obj)
    assert enc.encode(dict(obj)) is first
    newer = {"metadata": {"uid": "u", "resourceVersion": "2"}, "x": 2}
    assert enc.encode(newer) != first


def _rec(kind: str, new: dict[str, str], old: dict[str, str] | None, rv: int) -> _Rec:
    enc = Encoder()
    obj = {
        "metadata": {
            "name": "a",
            "namespace": "n",
            "uid": "u",
            "labels": new,
            "resourceVersion": str(rv),
        }
    }
    prev = (
        None
        if old is None
        else {
            "metadata": {
                "name": "a",
                "namespace": "n",
                "uid": "u",
                "labels": old,
                "resourceVersion": str(rv - 1),
            }
        }
    )
    data = enc.encode(obj)
    line = b'{"type":"' + kind.encode() + b'","object":' + data + b"}\n"
    return _Rec(rv, "/configmaps", "n", kind, obj, prev, data, line)


def test_selector_transitions_and_overflow() -> None:
    async def scenario() -> None:
        rt = Registry.builtin().core("configmaps")
        w = Watcher(rt.key, "n", compile_matcher(rt, "tier=a", None), maxlen=3)
        w.offer(_rec("MODIFIED", {"tier": "b"}, {"tier": "a"}, 5))  # leaves: DELETED
        w.offer(_rec("MODIFIED", {"tier": "b"}, {"tier": "b"}, 6))  # outside: nothing
        w.offer(_rec("MODIFIED", {"tier": "a"}, {"tier": "b"}, 7))  # enters: ADDED
        assert [line.split(b",")[0] for line in w.lines] == [
            b'{"type":"DELETED"',
            b'{"type":"ADDED"',
        ]
        assert b'"resourceVersion":"5"' in w.lines[0]
        w.offer(_rec("MODIFIED", {"tier": "a"}, {"tier": "a"}, 8))
        w.offer(_rec("MODIFIED", {"tier": "a"}, {"tier": "a"}, 9))  # fourth line: overflow
        assert w.overflow and not w.lines

    asyncio.run(scenario())

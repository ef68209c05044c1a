"""Simulated KubeVirt/CDI controllers driven through the real store and pod controllers."""

from __future__ import annotations

import asyncio
import io
import json
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, cast

import pytest
from kubernetes.client import ApiClient

from pytest_kubevirt_burner.sim import controllers
from pytest_kubevirt_burner.sim.context import GroundTruth, LatencyProfile, NodeShape, SimContext
from pytest_kubevirt_burner.sim.controllers.kubevirt import handle_subresource
from pytest_kubevirt_burner.sim.errors import ApiError
from pytest_kubevirt_burner.sim.profiles import Distribution, Profile
from pytest_kubevirt_burner.sim.registry import Registry
from pytest_kubevirt_burner.sim.resources import ResourceType
from pytest_kubevirt_burner.sim.store import Obj, Store, now_rfc3339

NS = "default"
VMI_PHASES = ["Pending", "Scheduling", "Scheduled", "Running"]


class Sim:
    """A store plus every controller, with a fixed 20 ms delay for each transition."""

    def __init__(self, nodes: int = 3, shape: NodeShape | None = None) -> None:
        self.reg = Registry.builtin()
        self.store = Store(self.reg)
        self.gt = io.BytesIO()
        profile = Profile("test", 0, {}, Distribution("fixed", {"value": 0.02}))
        self.ctx = SimContext(
            store=self.store,
            registry=self.reg,
            profile=cast(LatencyProfile, profile),
            ground_truth=GroundTruth(self.gt),
            rng=random.Random(7),
            nodes=nodes,
            node_shape=shape or NodeShape(),
        )
        self.vm = self.reg.lookup("kubevirt.io", "virtualmachines")
        self.vmi = self.reg.lookup("kubevirt.io", "virtualmachineinstances")
        self.vmim = self.reg.lookup("kubevirt.io", "virtualmachineinstancemigrations")
        self.vmirs = self.reg.lookup("kubevirt.io", "virtualmachineinstancereplicasets")
        self.dv = self.reg.lookup("cdi.kubevirt.io", "datavolumes")
        self.pod = self.reg.core("pods")
        self.pvc = self.reg.core("persistentvolumeclaims")

    def get(self, rt: ResourceType, name: str) -> Obj | None:
        return self.store.get(rt, NS, name)

    def truth(self, uid: str | None = None) -> list[dict[str, Any]]:
        """Controller-injected transitions (the store's Created records are tested elsewhere)."""
        lines = [json.loads(x) for x in self.gt.getvalue().splitlines()]
        return [
            x for x in lines if (uid is None or x["uid"] == uid) and x["transition"] != "Created"
        ]

    def transitions(self, obj: Obj) -> list[str]:
        return [x["transition"] for x in self.truth(obj["metadata"]["uid"])]

    def sub(self, resource: str, name: str, sub: str, body: dict[str, Any] | None = None) -> None:
        assert handle_subresource(self.ctx, resource, NS, name, sub, body) is None

    def launcher_pods(self, vmi: Obj) -> list[Obj]:
        sel = f"kubevirt.io/created-by={vmi['metadata']['uid']}"
        return self.store.list(self.pod, NS, label_selector=sel)

    async def until(self, pred: Callable[[], Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = pred()
            if value:
                return value
            await asyncio.sleep(0.01)
        raise AssertionError("condition not reached in time")

    async def vm_ready(self, name: str) -> Obj:
        def ready() -> Obj | None:
            vm = self.get(self.vm, name)
            st = (vm or {}).get("status") or {}
            return vm if st.get("ready") and st.get("printableStatus") == "Running" else None

        result: Obj = await self.until(ready)
        return result

    def with_status(self, name: str) -> Obj | None:
        vm = self.get(self.vm, name)
        return vm if vm is not None and (vm.get("status") or {}).get("runStrategy") else None

    def phase(self, rt: ResourceType, name: str) -> str | None:
        obj = self.get(rt, name)
        return None if obj is None else (obj.get("status") or {}).get("phase")


def run(
    test: Callable[[Sim], Awaitable[None]], nodes: int = 3, shape: NodeShape | None = None
) -> None:
    async def main() -> None:
        sim = Sim(nodes, shape)
        controllers.start(sim.ctx)
        try:
            await test(sim)
        finally:
            controllers.stop(sim.ctx)

    coro: Coroutine[Any, Any, None] = main()
    asyncio.run(coro)


def vm_body(name: str, memory: str = "90Mi", **spec: Any) -> Obj:
    if "running" not in spec:
        spec.setdefault("runStrategy", "Always")
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            **spec,
            "template": {
                "metadata": {"labels": {"kubevirt.io/vm": name, "runid": "r1"}},
                "spec": {
                    "domain": {
                        "cpu": {"cores": 1},
                        "resources": {"requests": {"memory": memory, "cpu": "100m"}},
                        "devices": {"interfaces": [{"name": "default", "masquerade": {}}]},
                    },
                    "networks": [{"name": "default", "pod": {}}],
                    "terminationGracePeriodSeconds": 0,
                    "volumes": [
                        {
                            "name": "containerdisk",
                            "containerDisk": {"image": "quay.io/containerdisks/fedora:latest"},
                        }
                    ],
                },
            },
        },
    }


def ptt(vmi: Obj) -> dict[str, str]:
    return {
        p["phase"]: p["phaseTransitionTimestamp"]
        for p in vmi["status"].get("phaseTransitionTimestamps", [])
    }


def cond(obj: Obj, ctype: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c["type"] == ctype:
            return dict(c)
    return None


def test_vm_lifecycle_to_ready_with_ground_truth() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("vm1"), NS)
        vm = await sim.vm_ready("vm1")
        vmi = sim.get(sim.vmi, "vm1")
        assert vmi is not None
        ref = vmi["metadata"]["ownerReferences"][0]
        assert ref["kind"] == "VirtualMachine" and ref["uid"] == vm["metadata"]["uid"]
        assert ref["controller"] and ref["blockOwnerDeletion"]
        assert "foregroundDeleteVirtualMachine" in vmi["metadata"]["finalizers"]
        assert vmi["metadata"]["labels"]["runid"] == "r1"
        st = vmi["status"]
        assert [p["phase"] for p in st["phaseTransitionTimestamps"]] == VMI_PHASES
        stamps = [p["phaseTransitionTimestamp"] for p in st["phaseTransitionTimestamps"]]
        assert stamps == sorted(stamps) and stamps[0] >= vmi["metadata"]["creationTimestamp"]
        assert st["phase"] == "Running" and cond(vmi, "Ready")["status"] == "True"  # type: ignore[index]
        assert st["interfaces"][0]["ipAddress"] and st["migrationTransport"] == "Unix"
        (pod,) = sim.launcher_pods(vmi)
        assert pod["metadata"]["name"].startswith("virt-launcher-vm1-")
        assert len(pod["metadata"]["name"]) == len("virt-launcher-vm1-") + 5
        labels = pod["metadata"]["labels"]
        assert labels["kubevirt.io"] == "virt-launcher" and labels["vm.kubevirt.io/name"] == "vm1"
        assert labels["runid"] == "r1"
        assert pod["metadata"]["annotations"]["kubevirt.io/domain"] == "vm1"
        assert pod["metadata"]["ownerReferences"][0]["uid"] == vmi["metadata"]["uid"]
        assert pod["spec"]["containers"][0]["name"] == "compute"
        assert st["nodeName"] == pod["spec"]["nodeName"]
        assert st["activePods"] == {pod["metadata"]["uid"]: pod["spec"]["nodeName"]}
        assert vm["status"]["created"] and cond(vm, "Ready")["status"] == "True"  # type: ignore[index]
        # ground truth: one line per injected transition, in order, at the stamped second
        truth = sim.truth(vmi["metadata"]["uid"])
        assert [x["transition"] for x in truth] == VMI_PHASES
        for line in truth:
            assert now_rfc3339(line["time"]) == ptt(vmi)[line["transition"]]
        times = [x["time"] for x in truth]
        assert times == sorted(times)
        (vm_line,) = sim.truth(vm["metadata"]["uid"])
        assert vm_line["transition"] == "Ready" and vm_line["time"] >= times[-1]
        assert now_rfc3339(vm_line["time"]) == cond(vm, "Ready")["lastTransitionTime"]  # type: ignore[index]
        # the launcher pod (after the kubelet ran it) is a valid v1 Pod for the official client
        pod_model = ApiClient()._ApiClient__deserialize(pod, "V1Pod")  # type: ignore[attr-defined]
        assert pod_model.spec.containers[0].resources.requests["memory"].endswith("Mi")

    run(body)


def test_run_strategies() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("halted", runStrategy="Halted"), NS)
        sim.store.create(sim.vm, vm_body("manual", runStrategy="Manual"), NS)
        sim.store.create(sim.vm, vm_body("legacy", running=True), NS)
        sim.store.create(sim.vm, vm_body("legacyoff", running=False), NS)
        sim.store.create(sim.vm, vm_body("rerun", runStrategy="RerunOnFailure"), NS)
        await sim.vm_ready("legacy")
        await sim.vm_ready("rerun")
        for name in ("halted", "manual", "legacyoff"):
            vm = await sim.until(partial(sim.with_status, name))
            assert vm["status"]["printableStatus"] == "Stopped"
            assert cond(vm, "Ready")["reason"] == "VMINotExists"  # type: ignore[index]
            assert sim.get(sim.vmi, name) is None
        assert sim.get(sim.vm, "legacy")["status"]["runStrategy"] == "Always"  # type: ignore[index]
        # Manual: start creates the VMI and keeps the strategy
        sim.sub("virtualmachines", "manual", "start")
        vm = await sim.vm_ready("manual")
        assert vm["spec"]["runStrategy"] == "Manual" and "stateChangeRequests" not in vm["status"]
        # legacy spec.running: start/stop flip spec.running, not runStrategy
        sim.sub("virtualmachines", "legacyoff", "start")
        vm = await sim.vm_ready("legacyoff")
        assert vm["spec"]["running"] is True and "runStrategy" not in vm["spec"]
        # both set is refused by virt-api's VM webhook (vms-admitter.go validateRunStrategy)
        with pytest.raises(ApiError) as err:
            sim.store.create(sim.vm, vm_body("both", running=True, runStrategy="Always"), NS)
        assert err.value.code == 422
        assert "Running and RunStrategy are mutually exclusive" in err.value.message

    run(body)


def test_stop_start_restart() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("vm"), NS)
        vm = await sim.vm_ready("vm")
        first = sim.get(sim.vmi, "vm")
        assert first is not None
        # restart: a new VMI with a new uid whose timestamps are those of the restart
        await asyncio.sleep(1.05 - time.time() % 1)
        op = time.time()
        sim.sub("virtualmachines", "vm", "restart")
        second = await sim.until(
            lambda: (
                (v := sim.get(sim.vmi, "vm"))
                and v["metadata"]["uid"] != first["metadata"]["uid"]
                and (v.get("status") or {}).get("phase") == "Running"
                and v
            )
        )
        vm = await sim.vm_ready("vm")
        assert second["metadata"]["creationTimestamp"] >= now_rfc3339(op)
        assert all(ts >= now_rfc3339(op) for ts in ptt(second).values())
        assert cond(vm, "Ready")["lastTransitionTime"] >= now_rfc3339(op)  # type: ignore[index]
        assert sim.transitions(first)[-1] == "Succeeded"
        assert sim.transitions(second) == VMI_PHASES
        assert sim.get(sim.vm, "vm")["spec"]["runStrategy"] == "Always"  # type: ignore[index]
        assert not sim.launcher_pods(first)
        # stop: Always -> Halted, VMI deleted, Stopping -> Stopped, Ready False VMINotExists
        sim.sub("virtualmachines", "vm", "stop", {"gracePeriod": 0})
        halted = sim.get(sim.vm, "vm")
        assert halted is not None and halted["spec"]["runStrategy"] == "Halted"
        seen: set[str] = set()

        def stopped() -> Obj | None:
            cur = sim.get(sim.vm, "vm") or {}
            seen.add(cur["status"]["printableStatus"])
            return cur if cur["status"]["printableStatus"] == "Stopped" else None

        vm = await sim.until(stopped)
        assert "Stopping" in seen
        assert sim.get(sim.vmi, "vm") is None and not vm["status"]["ready"]
        assert cond(vm, "Ready")["reason"] == "VMINotExists"  # type: ignore[index]
        assert sim.transitions(vm)[-1] == "Stopped"
        # start again
        sim.sub("virtualmachines", "vm", "start")
        assert sim.get(sim.vm, "vm")["spec"]["runStrategy"] == "Always"  # type: ignore[index]
        await sim.vm_ready("vm")

    run(body)


def test_pause_unpause_and_start_paused() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("vm"), NS)
        await sim.vm_ready("vm")
        sim.sub("virtualmachineinstances", "vm", "pause")
        vm = await sim.until(
            lambda: cond(sim.get(sim.vm, "vm") or {}, "Paused") and sim.get(sim.vm, "vm")
        )
        assert vm["status"]["printableStatus"] == "Paused"
        assert cond(vm, "Paused")["reason"] == "PausedByUser"  # type: ignore[index]
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachineinstances", "vm", "pause")
        assert err.value.code == 409 and "VMI is already paused" in err.value.message
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "vm", "migrate")
        assert err.value.code == 409 and "VM is paused" in err.value.message
        sim.sub("virtualmachineinstances", "vm", "unpause")
        vm = await sim.vm_ready("vm")
        assert cond(vm, "Paused") is None
        vmi = sim.get(sim.vmi, "vm")
        assert vmi is not None and sim.transitions(vmi)[-2:] == ["Paused", "Unpaused"]
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachineinstances", "vm", "unpause")
        assert err.value.code == 409 and "VMI is not paused" in err.value.message
        # a halted VM started paused comes up Running with Paused=True
        sim.store.create(sim.vm, vm_body("sp", runStrategy="Halted"), NS)
        await sim.until(lambda: (sim.get(sim.vm, "sp") or {}).get("status"))
        sim.sub("virtualmachines", "sp", "start", {"paused": True})
        vm = await sim.until(
            lambda: (
                (v := sim.get(sim.vm, "sp"))
                and v["status"].get("printableStatus") == "Paused"
                and v
            )
        )
        assert cond(vm, "Paused")["status"] == "True"  # type: ignore[index]
        assert vm["spec"]["runStrategy"] == "Always"
        vmi = sim.get(sim.vmi, "sp")
        assert vmi is not None and vmi["spec"]["startStrategy"] == "Paused"
        assert sim.transitions(vmi) == [*VMI_PHASES, "Paused"]

    run(body)


def test_migration_to_another_node() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("vm"), NS)
        await sim.vm_ready("vm")
        vmi = sim.get(sim.vmi, "vm")
        assert vmi is not None
        source_node = vmi["status"]["nodeName"]
        (source_pod,) = sim.launcher_pods(vmi)
        sim.sub("virtualmachines", "vm", "migrate")
        (mig,) = sim.store.list(sim.vmim, NS)
        assert mig["metadata"]["name"].startswith("kubevirt-migrate-vm-")
        assert mig["spec"]["vmiName"] == "vm"
        name = mig["metadata"]["name"]
        mig = await sim.until(
            lambda: sim.phase(sim.vmim, name) == "Succeeded" and sim.get(sim.vmim, name)
        )
        phases = [p["phase"] for p in mig["status"]["phaseTransitionTimestamps"]]
        expected = [
            "Pending",
            "Scheduling",
            "Scheduled",
            "PreparingTarget",
            "TargetReady",
            "Running",
            "Succeeded",
        ]
        assert phases == expected
        assert sim.transitions(mig) == expected
        vmi = await sim.until(
            lambda: (
                len(sim.launcher_pods(sim.get(sim.vmi, "vm") or {"metadata": {"uid": "-"}})) == 1
                and sim.get(sim.vmi, "vm")
            )
        )
        ms = vmi["status"]["migrationState"]
        assert ms["completed"] and ms["sourceNode"] == source_node and ms["mode"] == "PreCopy"
        assert ms["migrationUid"] == mig["metadata"]["uid"]
        assert ms["startTimestamp"] <= ms["endTimestamp"]
        assert ms["targetNode"] != source_node and vmi["status"]["nodeName"] == ms["targetNode"]
        (target_pod,) = sim.launcher_pods(vmi)
        assert target_pod["metadata"]["name"] == ms["targetPod"] != source_pod["metadata"]["name"]
        assert vmi["status"]["activePods"] == {target_pod["metadata"]["uid"]: ms["targetNode"]}
        await sim.vm_ready("vm")
        # migrating a VMI that does not exist is refused by virt-api's migration webhook
        # (migration-create-admitter.go)
        with pytest.raises(ApiError) as err:
            sim.store.create(
                sim.vmim,
                {
                    "apiVersion": "kubevirt.io/v1",
                    "kind": "VirtualMachineInstanceMigration",
                    "metadata": {"name": "bad"},
                    "spec": {"vmiName": "nope"},
                },
                NS,
            )
        assert err.value.code == 400
        assert err.value.message.endswith('the VMI "default/nope" does not exist')
        # a second migration moves it again
        sim.sub("virtualmachines", "vm", "migrate")
        await sim.until(
            lambda: (
                sum(
                    (m.get("status") or {}).get("phase") == "Succeeded"
                    for m in sim.store.list(sim.vmim, NS)
                )
                == 2
            )
        )
        vmi = sim.get(sim.vmi, "vm")
        assert vmi is not None and vmi["status"]["phase"] == "Running"
        assert vmi["status"]["nodeName"] != ms["targetNode"]

    run(body)


def dv_spec() -> dict[str, Any]:
    return {
        "source": {"http": {"url": "http://example.invalid/disk.img"}},
        "storage": {"resources": {"requests": {"storage": "1Gi"}}},
    }


def test_datavolume_lifecycle_and_vm_waits_for_it() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(
            sim.dv,
            {
                "apiVersion": "cdi.kubevirt.io/v1beta1",
                "kind": "DataVolume",
                "metadata": {"name": "dv"},
                "spec": dv_spec(),
            },
            NS,
        )
        dv = await sim.until(
            lambda: sim.phase(sim.dv, "dv") == "Succeeded" and sim.get(sim.dv, "dv")
        )
        assert sim.transitions(dv) == [
            "Pending",
            "ImportScheduled",
            "ImportInProgress",
            "Succeeded",
        ]
        for ctype, status in (("Bound", "True"), ("Ready", "True"), ("Running", "False")):
            assert cond(dv, ctype)["status"] == status  # type: ignore[index]
        assert dv["status"]["progress"] == "100.0%" and dv["status"]["claimName"] == "dv"
        pvc = sim.get(sim.pvc, "dv")
        assert pvc is not None and pvc["status"]["phase"] == "Bound"
        assert pvc["metadata"]["ownerReferences"][0]["uid"] == dv["metadata"]["uid"]
        ApiClient()._ApiClient__deserialize(pvc, "V1PersistentVolumeClaim")  # type: ignore[attr-defined]
        # a VM with dataVolumeTemplates waits for its DataVolume before creating the VMI
        body = vm_body("dvvm")
        body["spec"]["dataVolumeTemplates"] = [
            {"metadata": {"name": "dvvm-root"}, "spec": dv_spec()}
        ]
        body["spec"]["template"]["spec"]["volumes"] = [
            {"name": "root", "dataVolume": {"name": "dvvm-root"}}
        ]
        sim.store.create(sim.vm, body, NS)
        statuses: set[str] = set()

        def vmi_created() -> Obj | None:
            vm = sim.get(sim.vm, "dvvm") or {}
            statuses.add((vm.get("status") or {}).get("printableStatus", ""))
            return sim.get(sim.vmi, "dvvm")

        vmi = await sim.until(vmi_created)
        root = sim.get(sim.dv, "dvvm-root")
        assert root is not None and root["status"]["phase"] == "Succeeded"
        assert root["metadata"]["ownerReferences"][0]["name"] == "dvvm"
        assert statuses & {"Provisioning", "WaitingForVolumeBinding"}
        assert vmi["metadata"]["creationTimestamp"] >= cond(root, "Ready")["lastTransitionTime"]  # type: ignore[index]
        await sim.vm_ready("dvvm")

    run(body)


def test_replicaset_keeps_replicas() -> None:
    async def body(sim: Sim) -> None:
        tpl = vm_body("x")["spec"]["template"]
        tpl["metadata"]["labels"] = {"app": "rs"}
        sim.store.create(
            sim.vmirs,
            {
                "apiVersion": "kubevirt.io/v1",
                "kind": "VirtualMachineInstanceReplicaSet",
                "metadata": {"name": "rs"},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": {"app": "rs"}},
                    "template": tpl,
                },
            },
            NS,
        )
        rs = await sim.until(
            lambda: (
                ((sim.get(sim.vmirs, "rs") or {}).get("status") or {}).get("readyReplicas") == 3
                and sim.get(sim.vmirs, "rs")
            )
        )
        assert rs["status"]["replicas"] == 3 and rs["status"]["labelSelector"] == "app=rs"
        vmis = sim.store.list(sim.vmi, NS)
        assert len(vmis) == 3 and all(v["metadata"]["name"].startswith("rs") for v in vmis)
        sim.store.delete(sim.vmi, NS, vmis[0]["metadata"]["name"])
        await sim.until(
            lambda: (
                vmis[0]["metadata"]["uid"]
                not in {v["metadata"]["uid"] for v in sim.store.list(sim.vmi, NS)}
            )
        )
        await sim.until(lambda: sim.get(sim.vmirs, "rs")["status"]["readyReplicas"] == 3)  # type: ignore[index]
        sim.store.mutate(sim.vmirs, NS, "rs", lambda o: o["spec"].__setitem__("replicas", 1))
        await sim.until(lambda: len(sim.store.list(sim.vmi, NS)) == 1)

    run(body)


def test_vm_deletion_cascades() -> None:
    async def body(sim: Sim) -> None:
        body = vm_body("vm")
        body["spec"]["dataVolumeTemplates"] = [{"metadata": {"name": "vm-root"}, "spec": dv_spec()}]
        sim.store.create(sim.vm, body, NS)
        await sim.vm_ready("vm")
        vmi = sim.get(sim.vmi, "vm")
        assert vmi is not None
        sim.store.delete(sim.vm, NS, "vm", propagation_policy="Foreground")
        await sim.until(lambda: sim.get(sim.vm, "vm") is None)
        await sim.until(lambda: sim.get(sim.dv, "vm-root") is None)
        assert sim.get(sim.vmi, "vm") is None and not sim.launcher_pods(vmi)
        assert sim.transitions(vmi)[-1] == "Succeeded"
        # background deletion of a standalone VMI
        vmi_body = {
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachineInstance",
            "metadata": {"name": "solo"},
            "spec": vm_body("s")["spec"]["template"]["spec"],
        }
        sim.store.create(sim.vmi, vmi_body, NS)
        await sim.until(lambda: sim.phase(sim.vmi, "solo") == "Running")
        sim.store.delete(sim.vmi, NS, "solo")
        await sim.until(lambda: sim.get(sim.vmi, "solo") is None)
        await sim.until(lambda: not sim.store.list(sim.pod, NS))

    run(body)


def test_unschedulable_vm_on_full_cluster() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("big", memory="3Gi"), NS)
        vm = await sim.until(
            lambda: (
                ((sim.get(sim.vm, "big") or {}).get("status") or {}).get("printableStatus")
                == "ErrorUnschedulable"
                and sim.get(sim.vm, "big")
            )
        )
        assert not vm["status"]["ready"]
        assert sim.phase(sim.vmi, "big") == "Scheduling"
        vmi = sim.get(sim.vmi, "big")
        assert vmi is not None
        assert cond(vmi, "PodScheduled")["reason"] == "Unschedulable"  # type: ignore[index]
        # freeing capacity lets the VM start: stop the small VM... here, shrink the big one
        sim.sub("virtualmachines", "big", "stop")
        await sim.until(lambda: sim.get(sim.vmi, "big") is None)
        assert sim.get(sim.vm, "big")["status"]["printableStatus"] == "Stopped"  # type: ignore[index]

    run(body, nodes=1, shape=NodeShape(cpu_millis=4000, memory_bytes=2 * 1024**3, pods=20))


def test_subresource_errors() -> None:
    async def body(sim: Sim) -> None:
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "ghost", "start")
        assert err.value.code == 404
        assert err.value.message == 'virtualmachine.kubevirt.io "ghost" not found'
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachineinstances", "ghost", "pause")
        assert err.value.code == 404
        sim.store.create(sim.vm, vm_body("vm"), NS)
        await sim.vm_ready("vm")
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "vm", "start")
        assert err.value.code == 409 and err.value.message == (
            'Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm": '
            "VM is already running"
        )
        sim.store.create(sim.vm, vm_body("off", runStrategy="Halted"), NS)
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "off", "stop")
        assert err.value.code == 409 and err.value.message.endswith("VM is not running")
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "off", "restart")
        assert err.value.code == 409 and "RunStategy Halted does not support manual restart" in (
            err.value.message
        )
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "vm", "restart", {"gracePeriodSeconds": 5})
        assert err.value.code == 400
        sim.store.create(sim.vm, vm_body("once", runStrategy="Once"), NS)
        await sim.vm_ready("once")
        # the launcher pod disappears: the VMI fails and a Once VM is not restarted
        once = sim.get(sim.vmi, "once")
        assert once is not None
        for pod in sim.launcher_pods(once):
            sim.store.delete(sim.pod, NS, pod["metadata"]["name"], grace_period_seconds=0)
        await sim.until(lambda: sim.phase(sim.vmi, "once") == "Failed")
        await sim.until(
            lambda: sim.get(sim.vm, "once")["status"]["printableStatus"] == "Stopped"  # type: ignore[index]
        )
        assert sim.get(sim.vmi, "once")["metadata"]["uid"] == once["metadata"]["uid"]  # type: ignore[index]
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "once", "start")
        assert err.value.code == 409
        assert "Once does not support manual start requests" in err.value.message
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "vm", "frobnicate")
        assert err.value.code == 404

    run(body)


def test_volume_hotplug() -> None:
    async def body(sim: Sim) -> None:
        sim.store.create(sim.vm, vm_body("vm"), NS)
        await sim.vm_ready("vm")
        opts = {
            "name": "extra",
            "disk": {"disk": {"bus": "scsi"}},
            "volumeSource": {"persistentVolumeClaim": {"claimName": "pvc1"}},
        }
        sim.sub("virtualmachines", "vm", "addvolume", opts)
        vmi = sim.get(sim.vmi, "vm")
        vm = sim.get(sim.vm, "vm")
        assert vmi is not None and vm is not None
        assert any(v["name"] == "extra" for v in vmi["spec"]["volumes"])
        assert any(v["name"] == "extra" for v in vm["spec"]["template"]["spec"]["volumes"])
        (vs,) = [v for v in vmi["status"]["volumeStatus"] if v["name"] == "extra"]
        assert vs["phase"] == "Ready" and vs["target"] == "sda"
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "vm", "addvolume", opts)
        assert err.value.code == 409 and "already exists" in err.value.message
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachineinstances", "vm", "removevolume", {"name": "containerdisk"})
        assert "not hotpluggable" in err.value.message
        sim.sub("virtualmachineinstances", "vm", "removevolume", {"name": "extra"})
        vmi = sim.get(sim.vmi, "vm")
        assert vmi is not None and all(v["name"] != "extra" for v in vmi["spec"]["volumes"])
        with pytest.raises(ApiError) as err:
            sim.sub("virtualmachines", "vm", "addvolume", {"name": "x"})
        assert err.value.code == 400

    run(body)

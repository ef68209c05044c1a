"""Volume hotplug subresources (addvolume/removevolume) of VMs and VMIs."""

from __future__ import annotations

import copy
from typing import Any

from ..context import SimContext
from ..errors import bad_request
from ..store import Obj
from .kubevirt_common import (
    FINAL_PHASES,
    Types,
    kv_conflict,
    meta,
    status,
    suffix,
    write_meta,
    write_status,
)


def _source_name(source: dict[str, Any]) -> str:
    if source.get("dataVolume"):
        return str(source["dataVolume"].get("name", ""))
    if source.get("persistentVolumeClaim"):
        return str(source["persistentVolumeClaim"].get("claimName", ""))
    return ""


def _add_options(body: dict[str, Any]) -> dict[str, Any]:
    if not body:
        raise bad_request("Request with no body, a new name is expected as the request body")
    if not body.get("name"):
        raise bad_request("AddVolumeOptions requires name to be set")
    if not isinstance(body.get("disk", {}), dict) or not isinstance(
        body.get("volumeSource", {}), dict
    ):
        raise bad_request("Can not unmarshal Request body to struct, error: invalid options")
    if body.get("disk") is None:
        raise bad_request("AddVolumeOptions requires disk to not be nil")
    if body.get("volumeSource") is None:
        raise bad_request("AddVolumeOptions requires VolumeSource to not be nil")
    opts = copy.deepcopy(body)
    opts["disk"]["name"] = opts["name"]
    for key in ("dataVolume", "persistentVolumeClaim"):
        if opts["volumeSource"].get(key) is not None:
            opts["volumeSource"][key]["hotpluggable"] = True
    return opts


def _remove_name(body: dict[str, Any]) -> str:
    if not body:
        raise bad_request("Request with no body, a new name is expected as the request body")
    if not body.get("name"):
        raise bad_request("RemoveVolumeOptions requires name to be set")
    return str(body["name"])


def _verify(
    resource: str,
    obj_name: str,
    volumes: list[dict[str, Any]],
    add: dict[str, Any] | None,
    remove: str | None,
) -> None:
    found = False
    for vol in volumes:
        if add is not None:
            src = _source_name(add["volumeSource"])
            if vol.get("name") == add["name"]:
                raise kv_conflict(
                    resource,
                    obj_name,
                    f"Unable to add volume [{add['name']}] "
                    "because volume with that name already exists",
                )
            if src and _source_name(vol) == src:
                raise kv_conflict(
                    resource,
                    obj_name,
                    f"Unable to add volume source [{src}] because it already exists",
                )
        elif remove is not None and remove in (vol.get("name"), _source_name(vol)):
            hot = any(
                (vol.get(k) or {}).get("hotpluggable")
                for k in ("dataVolume", "persistentVolumeClaim")
            )
            if not hot:
                raise kv_conflict(
                    resource,
                    obj_name,
                    f"Unable to remove volume [{vol['name']}] because it is not hotpluggable",
                )
            found = True
            break
    if remove is not None and not found:
        raise kv_conflict(
            resource, obj_name, f"Unable to remove volume [{remove}] because it does not exist"
        )


def _apply(spec: dict[str, Any], add: dict[str, Any] | None, remove: str | None) -> None:
    volumes = spec.setdefault("volumes", [])
    disks = spec.setdefault("domain", {}).setdefault("devices", {}).setdefault("disks", [])
    if add is not None:
        volumes.append({"name": add["name"], **copy.deepcopy(add["volumeSource"])})
        disks.append(copy.deepcopy(add["disk"]))
    elif remove is not None:
        gone = {v["name"] for v in volumes if remove in (v.get("name"), _source_name(v))}
        spec["volumes"] = [v for v in volumes if v.get("name") not in gone]
        spec["domain"]["devices"]["disks"] = [d for d in disks if d.get("name") not in gone]


def _hotplug_vmi(
    ctx: SimContext, t: Types, vmi: Obj, add: dict[str, Any] | None, remove: str | None
) -> None:
    write_meta(ctx, t.vmi, vmi, lambda o: _apply(o.setdefault("spec", {}), add, remove))
    attach_pod = f"hp-volume-{suffix(ctx)}"

    def fn(st: dict[str, Any]) -> None:
        vs: list[dict[str, Any]] = st.setdefault("volumeStatus", [])
        if add is not None:
            used = {v.get("target") for v in vs}
            target = next(f"sd{c}" for c in "abcdefghijklmnopqrstuvwxyz" if f"sd{c}" not in used)
            vs.append(
                {
                    "name": add["name"],
                    "target": target,
                    "phase": "Ready",
                    "reason": "VolumeReady",
                    "message": f"Successfully attach hotplugged volume {add['name']} to VM",
                    "hotplugVolume": {"attachPodName": attach_pod},
                }
            )
        elif remove is not None:
            st["volumeStatus"] = [v for v in vs if v.get("name") != remove]

    write_status(ctx, t.vmi, vmi, fn)


def _vmi_running(vmi: Obj | None) -> bool:
    return vmi is not None and status(vmi).get("phase") == "Running"


def vmi_addvolume(ctx: SimContext, t: Types, vmi: Obj, body: dict[str, Any], dry: bool) -> None:
    """Hotplug a volume into a running VMI (not persisted in its VM)."""
    _vmi_volume(ctx, t, vmi, _add_options(body), None, dry)


def vmi_removevolume(ctx: SimContext, t: Types, vmi: Obj, body: dict[str, Any], dry: bool) -> None:
    """Unplug a hotplugged volume from a running VMI."""
    _vmi_volume(ctx, t, vmi, None, _remove_name(body), dry)


def _vmi_volume(
    ctx: SimContext, t: Types, vmi: Obj, add: dict[str, Any] | None, remove: str | None, dry: bool
) -> None:
    name = str(meta(vmi)["name"])
    if not _vmi_running(vmi):
        raise kv_conflict("virtualmachineinstance", name, "VMI is not running")
    _verify(
        "virtualmachineinstance", name, (vmi.get("spec") or {}).get("volumes") or [], add, remove
    )
    if not dry:
        _hotplug_vmi(ctx, t, vmi, add, remove)


def vm_addvolume(
    ctx: SimContext, t: Types, vm: Obj, vmi: Obj | None, body: dict[str, Any], dry: bool
) -> None:
    """Add a volume to the VM template and hotplug it into the running VMI."""
    _vm_volume(ctx, t, vm, vmi, _add_options(body), None, dry)


def vm_removevolume(
    ctx: SimContext, t: Types, vm: Obj, vmi: Obj | None, body: dict[str, Any], dry: bool
) -> None:
    """Remove a hotplugged volume from the VM template and its running VMI."""
    _vm_volume(ctx, t, vm, vmi, None, _remove_name(body), dry)


def _vm_volume(
    ctx: SimContext,
    t: Types,
    vm: Obj,
    vmi: Obj | None,
    add: dict[str, Any] | None,
    remove: str | None,
    dry: bool,
) -> None:
    name = str(meta(vm)["name"])
    tpl = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
    _verify("virtualmachine", name, tpl.get("volumes") or [], add, remove)
    if dry:
        return
    write_meta(
        ctx,
        t.vm,
        vm,
        lambda o: _apply(
            o.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {}), add, remove
        ),
    )
    if vmi is not None and _vmi_running(vmi) and status(vmi).get("phase") not in FINAL_PHASES:
        vols = (vmi.get("spec") or {}).get("volumes") or []
        present = any(v.get("name") == (add or {}).get("name", remove) for v in vols)
        if (add is not None and not present) or (remove is not None and present):
            _hotplug_vmi(ctx, t, vmi, add, remove)

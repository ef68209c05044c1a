"""KubeVirt's and CDI's admission webhooks: the defaults they set and the requests they refuse.

Rules, messages and codes follow kubevirt/kubevirt@d923fdb8:

* ``pkg/virt-api/webhooks/validating-webhook/admitters/vms-admitter.go`` (VirtualMachine),
  ``vmi-create-admitter.go`` (VirtualMachineInstance), ``migration-create-admitter.go``;
* ``pkg/virt-api/webhooks/mutating-webhook/mutators/vm-mutator.go``, ``vmi-mutator.go``,
  ``migration-create-mutator.go`` and ``pkg/defaults/defaults.go`` (defaults);
* ``pkg/util/webhooks/webhooks.go``: a denial with causes is 422 ``Invalid`` whose message joins
  the causes' messages with ", "; any other denial is 400 without a reason;

and kubevirt/containerized-data-importer ``pkg/apiserver/webhooks/datavolume-validate.go``.
kube-apiserver prefixes the message with ``admission webhook "<name>" denied the request: ``
(k8s.io/apiserver ``pkg/admission/plugin/webhook/errors/statuserror.go``).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Protocol

from . import warn
from .errors import ApiError

Obj = dict[str, Any]

VM_VALIDATOR = "virtualmachine-validator.kubevirt.io"
VMI_VALIDATOR = "virtualmachineinstances-create-validator.kubevirt.io"
MIGRATION_VALIDATOR = "migration-create-validator.kubevirt.io"
DV_VALIDATOR = "datavolume-validate.cdi.kubevirt.io"
RUN_STRATEGIES = ("Halted", "Manual", "Always", "RerunOnFailure", "Once")
RUNNING_DEPRECATED = "spec.running is deprecated, please use spec.runStrategy instead."
EXCLUSIVE = (
    "Running and RunStrategy are mutually exclusive. Note that Running is deprecated,"
    " please use RunStrategy instead"
)
MACHINE_TYPE = "q35"  # virt-config DefaultAMD64MachineType
CPU_MODEL = "host-model"  # api/core/v1 DefaultCPUModel
VMI_FINALIZER = "foregroundDeleteVirtualMachine"
MIGRATION_LABEL = "kubevirt.io/vmi-name"
NON_ROOT_USER = 107
FINAL_PHASES = ("Succeeded", "Failed")


class Reader(Protocol):
    """What the migration admitter reads from the store."""

    def get_object(self, group: str, resource: str, namespace: str, name: str) -> Obj | None:
        """The stored object or None."""

    def list_objects(self, group: str, resource: str, namespace: str) -> list[Obj]:
        """Stored objects of one namespace."""


def _rfc3339(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _cause(ctype: str, message: str, field: str | None = None) -> dict[str, str]:
    out = {"reason": ctype, "message": message}
    if field is not None:
        out["field"] = field
    return out


def denied(webhook: str, causes: list[dict[str, str]]) -> ApiError:
    """422 Invalid: a webhook denial with causes (at most 10 listed, as virt-api does)."""
    shown = causes[:10]
    message = ", ".join(c["message"] for c in shown)
    if len(causes) > 10:
        message += f", and {len(causes) - 10} more validation errors"
    return ApiError(
        422,
        "Invalid",
        f'admission webhook "{webhook}" denied the request: {message}',
        {"causes": shown},
    )


def denied_error(webhook: str, message: str) -> ApiError:
    """400 without a reason: a webhook denial from an error (ToAdmissionResponseError)."""
    return ApiError(400, "", f'admission webhook "{webhook}" denied the request: {message}')


def _quantity_zero(value: Any) -> bool:
    if value in (None, "", 0):
        return True
    text = str(value).strip()
    return text.rstrip("kKMGTPEimunb").rstrip(".") in ("0", "")


def _domain(spec: Obj) -> Obj:
    domain = spec.setdefault("domain", {})
    return domain if isinstance(domain, dict) else {}


def _requests_limits(domain: Obj) -> tuple[Obj, Obj]:
    res = domain.get("resources") or {}
    return (res.get("requests") or {}), (res.get("limits") or {})


# ---------------------------------------------------------------- VirtualMachine


def mutate_vm(vm: Obj, old: Obj | None) -> None:
    """virtualmachines-mutator: firmware uuid/serial on create, default machine type."""
    if (vm.get("metadata") or {}).get("deletionTimestamp"):
        return
    tmpl = (vm.get("spec") or {}).get("template")
    if not isinstance(tmpl, dict) or not isinstance(tmpl.get("spec"), dict):
        return
    domain = tmpl["spec"].get("domain")
    if not isinstance(domain, dict):
        return
    if old is None:
        firmware = domain.setdefault("firmware", {})
        firmware.setdefault("uuid", str(uuid.uuid4()))
        firmware.setdefault("serial", str(uuid.uuid4()))
    machine = domain.setdefault("machine", {})
    if not machine.get("type"):
        machine["type"] = MACHINE_TYPE


def validate_vm(vm: Obj) -> None:
    """virtualmachine-validator: template, runStrategy/running, disks; warns on spec.running."""
    if (vm.get("metadata") or {}).get("deletionTimestamp"):
        return
    spec = vm.get("spec") if isinstance(vm.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    tmpl = spec.get("template")
    if not isinstance(tmpl, dict):
        msg = "missing virtual machine template."
        raise denied(VM_VALIDATOR, [_cause("FieldValueRequired", msg, "spec.template")])
    causes = _disk_causes(tmpl.get("spec") or {}, "spec.template.spec")
    running, strategy = spec.get("running"), spec.get("runStrategy")
    if running is not None and strategy is not None:
        causes.append(_cause("FieldValueInvalid", EXCLUSIVE, "spec.running"))
    if running is None and strategy is None:
        causes.append(_cause("FieldValueInvalid", "RunStrategy must be specified", "spec.running"))
    if strategy is not None and strategy not in RUN_STRATEGIES:
        msg = f"Invalid RunStrategy ({strategy})"
        causes.append(_cause("FieldValueInvalid", msg, "spec.runStrategy"))
    if causes:
        raise denied(VM_VALIDATOR, causes)
    if running is not None:
        warn.add(RUNNING_DEPRECATED)


def _disk_causes(spec: Obj, field: str) -> list[dict[str, str]]:
    """validateBootOrder: every disk needs a volume of its name (a CD-ROM may be empty)."""
    domain = spec.get("domain") or {}
    volumes = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)}
    causes = []
    for i, disk in enumerate((domain.get("devices") or {}).get("disks") or []):
        if not isinstance(disk, dict) or disk.get("name") in volumes or "cdrom" in disk:
            continue
        path = f"{field}.domain.devices.disks[{i}]"
        msg = f"{path}.Name '{disk.get('name')}' not found."
        causes.append(_cause("FieldValueInvalid", msg, f"{path}.name"))
    return causes


# ---------------------------------------------------------------- VirtualMachineInstance


def mutate_vmi(vmi: Obj, at: float) -> None:
    """virtualmachineinstances-mutator on create: spec defaults, finalizer, phase Pending."""
    spec = vmi.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    domain = _domain(spec)
    spec.setdefault("architecture", "amd64")
    machine = domain.setdefault("machine", {})
    if isinstance(machine, dict) and not machine.get("type"):
        machine["type"] = MACHINE_TYPE
    requests, limits = _requests_limits(domain)
    if limits.get("cpu") is not None and requests.get("cpu") is None:
        domain.setdefault("resources", {}).setdefault("requests", {})["cpu"] = limits["cpu"]
        requests = domain["resources"]["requests"]
    memory = domain.setdefault("memory", {})
    if isinstance(memory, dict) and memory.get("guest") is None:
        for source in (requests.get("memory"), limits.get("memory")):
            if not _quantity_zero(source):
                memory["guest"] = source
                break
        else:
            page = (memory.get("hugepages") or {}).get("pageSize")
            if page:
                memory["guest"] = page
        if not memory:
            del domain["memory"]
    cpu = domain.setdefault("cpu", {})
    if isinstance(cpu, dict):
        if not any(cpu.get(k) for k in ("cores", "sockets", "threads")):
            count = limits.get("cpu", requests.get("cpu"))
            cpu.update(sockets=_cpu_count(count), cores=1, threads=1)
        cpu.setdefault("model", CPU_MODEL)
    devices = domain.setdefault("devices", {})
    named = {d.get("name") for d in devices.get("disks") or [] if isinstance(d, dict)}
    named |= {f.get("name") for f in devices.get("filesystems") or [] if isinstance(f, dict)}
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict) and volume.get("name") not in named:
            devices.setdefault("disks", []).append({"name": volume.get("name")})
        cdisk = volume.get("containerDisk") if isinstance(volume, dict) else None
        if isinstance(cdisk, dict) and not cdisk.get("imagePullPolicy"):
            image = str(cdisk.get("image") or "")
            latest = image.endswith(":latest") or not any(c in image for c in ":@")
            cdisk["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    domain.setdefault("firmware", {}).setdefault("uuid", str(uuid.uuid4()))
    meta = vmi.setdefault("metadata", {})
    if VMI_FINALIZER not in (meta.get("finalizers") or []):
        meta.setdefault("finalizers", []).append(VMI_FINALIZER)
    st = vmi.setdefault("status", {})
    st["phase"] = "Pending"
    st.setdefault("phaseTransitionTimestamps", []).append(
        {"phase": "Pending", "phaseTransitionTimestamp": _rfc3339(at)}
    )
    st["runtimeUser"] = NON_ROOT_USER
    if isinstance(cpu, dict) and cpu.get("sockets"):
        st["currentCPUTopology"] = {k: cpu[k] for k in ("sockets", "cores", "threads") if k in cpu}
    guest = memory.get("guest") if isinstance(memory, dict) else None
    if guest is not None:
        st["memory"] = {"guestAtBoot": guest, "guestCurrent": guest, "guestRequested": guest}


def _cpu_count(value: Any) -> int:
    """resource.Quantity.Value() of a cpu quantity: whole cores, rounded up, at least 1."""
    if value is None:
        return 1
    text = str(value)
    try:
        cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return 1
    whole = int(cores) if cores == int(cores) else int(cores) + 1
    return max(1, whole)


def validate_vmi(vmi: Obj) -> None:
    """virtualmachineinstances-create-validator: disks need volumes, memory must be requested."""
    spec = vmi.get("spec") if isinstance(vmi.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    causes = _disk_causes(spec, "spec")
    domain = spec.get("domain") or {}
    requests, _ = _requests_limits(domain)
    memory = domain.get("memory") or {}
    if _quantity_zero(requests.get("memory")) and not (
        memory.get("guest") is not None or memory.get("hugepages") is not None
    ):
        # ValidateVirtualMachineInstanceMandatoryFields (after the mutator's defaults)
        msg = (
            "no memory requested, at least one of 'spec.domain.memory.guest',"
            " 'spec.domain.memory.hugepages.pageSize' or 'spec.domain.resources.requests.memory'"
            " must be set"
        )
        causes.append(_cause("FieldValueRequired", msg))
    if causes:
        raise denied(VMI_VALIDATOR, causes)


# ---------------------------------------------------------------- migrations


def mutate_migration(mig: Obj) -> None:
    """migrations-mutator: the ``kubevirt.io/vmi-name`` selector label."""
    vmi_name = str((mig.get("spec") or {}).get("vmiName") or "")
    mig.setdefault("metadata", {}).setdefault("labels", {})[MIGRATION_LABEL] = vmi_name


def validate_migration(mig: Obj, reader: Reader) -> None:
    """migration-create-validator: the VMI exists, is not final, is migratable, no other."""
    meta = mig.get("metadata") or {}
    ns = str(meta.get("namespace") or "")
    vmi_name = str((mig.get("spec") or {}).get("vmiName") or "")
    if not vmi_name:
        msg = "spec.vmiName is required"
        raise denied(MIGRATION_VALIDATOR, [_cause("FieldValueRequired", msg, "spec.vmiName")])
    vmi = reader.get_object("kubevirt.io", "virtualmachineinstances", ns, vmi_name)
    if vmi is None:
        raise denied_error(MIGRATION_VALIDATOR, f'the VMI "{ns}/{vmi_name}" does not exist')
    st = vmi.get("status") or {}
    if st.get("phase") in FINAL_PHASES:
        raise denied_error(MIGRATION_VALIDATOR, "Cannot migrate VMI in finalized state.")
    for cond in st.get("conditions") or []:
        if cond.get("type") == "LiveMigratable" and cond.get("status") == "False":
            msg = (
                f"Cannot migrate VMI, Reason: {cond.get('reason', '')},"
                f" Message: {cond.get('message', '')}"
            )
            raise denied_error(MIGRATION_VALIDATOR, msg)
    for other in reader.list_objects("kubevirt.io", "virtualmachineinstancemigrations", ns):
        if (other.get("metadata") or {}).get("labels", {}).get(MIGRATION_LABEL) != vmi_name:
            continue
        if (other.get("status") or {}).get("phase") in FINAL_PHASES:
            continue
        msg = (
            "in-flight migration detected. Active migration job"
            f" ({other['metadata'].get('uid', '')}) is currently already in progress for VMI"
            f" {(other.get('spec') or {}).get('vmiName', '')}."
        )
        raise denied_error(MIGRATION_VALIDATOR, msg)


# ---------------------------------------------------------------- CDI DataVolume


def validate_datavolume(dv: Obj) -> None:
    """datavolume-validate (create): exactly one of source / sourceRef, or external population."""
    spec = dv.get("spec") if isinstance(dv.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    claim = spec.get("pvc") or spec.get("storage") or {}
    if isinstance(claim, dict) and (claim.get("dataSource") or claim.get("dataSourceRef")):
        return
    source, ref = spec.get("source"), spec.get("sourceRef")
    if (source is None) == (ref is None):
        msg = "Data volume should have either Source or SourceRef, or be externally populated"
        raise denied(DV_VALIDATOR, [_cause("FieldValueInvalid", msg, "spec.source")])
    if isinstance(source, dict):
        n = sum(1 for v in source.values() if v is not None)
        if n != 1:
            msg = "Missing Data volume source" if n == 0 else "Multiple Data volume sources"
            raise denied(DV_VALIDATOR, [_cause("FieldValueInvalid", msg, "spec.source")])

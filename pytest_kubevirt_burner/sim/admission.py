"""Defaulting and validation of objects on create and update, as the real API server does."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import re
import time
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache
from typing import Any

from . import kubevirt_admission as kva
from .errors import ApiError, invalid
from .resources import ResourceType
from .selectors import (
    SUBDOMAIN_MSG,
    label_key_errors,
    label_selector_from_object,
    label_value_errors,
)

Obj = dict[str, Any]
Cause = dict[str, str]

_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and"
    " must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex"
    " used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an"
    " alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or"
    " 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
_NAME_RULES = {
    "subdomain": (_SUBDOMAIN_RE, 253, SUBDOMAIN_MSG),
    "label": (_LABEL_RE, 63, LABEL_MSG),
    "dns1035": (_DNS1035_RE, 63, DNS1035_MSG),
}
_NAME_KIND = {("", "namespaces"): "label", ("", "services"): "dns1035"}
_WORKLOADS = {"deployments", "replicasets", "statefulsets", "daemonsets"}
_TEMPLATE_KINDS = _WORKLOADS | {"jobs"}
_KUBEVIRT_GROUPS = ("kubevirt.io", "cdi.kubevirt.io")
_WEBHOOK_GROUPS = frozenset(_KUBEVIRT_GROUPS)
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
_DEFAULT_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", 300),
    ("node.kubernetes.io/unreachable", 300),
)


def go_quote(value: Any) -> str:
    """A value formatted as Go's ``%q``/``%v`` does in field error messages."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
        return f"map[string]string{{{inner}}}"
    if isinstance(value, list):
        return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
    return json.dumps(value)


def required(field: str, detail: str = "") -> Cause:
    """A FieldValueRequired cause."""
    msg = "Required value" + (f": {detail}" if detail else "")
    return {"reason": "FieldValueRequired", "message": msg, "field": field}


def invalid_value(field: str, value: Any, detail: str) -> Cause:
    """A FieldValueInvalid cause."""
    msg = f"Invalid value: {go_quote(value)}: {detail}"
    return {"reason": "FieldValueInvalid", "message": msg, "field": field}


def forbidden_field(field: str, detail: str) -> Cause:
    """A FieldValueForbidden cause."""
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def not_supported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    """A FieldValueNotSupported cause."""
    vals = ", ".join(json.dumps(s) for s in supported)
    msg = f"Unsupported value: {go_quote(value)}: supported values: {vals}"
    return {"reason": "FieldValueNotSupported", "message": msg, "field": field}


def invalid_error(rt: ResourceType, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid for ``rt`` naming the kind group-qualified, as the real server does."""
    err = invalid(rt.kind, rt.group, name, causes)
    if rt.group:
        err.message = f"{rt.kind}.{rt.group}{err.message[len(rt.kind) :]}"
        err.args = (err.message,)
    return err


def name_errors(name: str, rule: str, prefix: bool = False) -> list[str]:
    """DNS-1123 subdomain/label or DNS-1035 problems with a name (``prefix``: generateName)."""
    if prefix:
        name = name[:-1] + "a" if name.endswith("-") else name
    regex, limit, msg = _NAME_RULES[rule]
    errs = []
    if len(name) > limit:
        errs.append(f"must be no more than {limit} characters")
    if not regex.match(name):
        errs.append(msg)
    return errs


class Admission:
    """Defaulting and validation; holds the Service clusterIP/nodePort allocators."""

    def __init__(self) -> None:
        self._ips: set[int] = set()
        self._next_ip = int(SERVICE_CIDR.network_address) + 10
        self._node_ports: set[int] = set()
        self._next_port = 30000
        # what the migration webhook reads (the Store sets itself here)
        self.reader: kva.Reader | None = None
        self.clock: Callable[[], float] = time.time

    def admit(
        self, rt: ResourceType, obj: Obj, old: Obj | None = None, *, dry_run: bool = False
    ) -> None:
        """Mutating webhooks, defaults, validation (422), then validating webhooks."""
        webhooks = rt.group in _WEBHOOK_GROUPS
        if webhooks:
            self._mutating_webhooks(rt, obj, old)
        self.default(rt, obj, old)
        causes = self.validate(rt, obj, old)
        if causes:
            raise invalid_error(rt, obj["metadata"].get("name", ""), causes)
        if webhooks:
            self._validating_webhooks(rt, obj, old)
        if rt.group == "" and rt.resource == "services" and not dry_run:
            self._allocate(rt, obj, old)

    # ---------------------------------------------------------------- webhooks

    def _mutating_webhooks(self, rt: ResourceType, obj: Obj, old: Obj | None) -> None:
        res = rt.resource
        if rt.group != "kubevirt.io":
            return
        if res == "virtualmachines":
            kva.mutate_vm(obj, old)
        elif res == "virtualmachineinstances" and old is None:
            kva.mutate_vmi(obj, self.clock())
        elif res == "virtualmachineinstancemigrations" and old is None:
            kva.mutate_migration(obj)

    def _validating_webhooks(self, rt: ResourceType, obj: Obj, old: Obj | None) -> None:
        res = rt.resource
        if rt.group == "kubevirt.io":
            if res == "virtualmachines":
                kva.validate_vm(obj)
            elif res == "virtualmachineinstances" and old is None:
                kva.validate_vmi(obj)
            elif res == "virtualmachineinstancemigrations" and old is None and self.reader:
                kva.validate_migration(obj, self.reader)
        elif res == "datavolumes" and old is None:
            kva.validate_datavolume(obj)

    # ---------------------------------------------------------------- defaulting

    def default(self, rt: ResourceType, obj: Obj, old: Obj | None = None) -> None:
        """Fill the defaults the real API server sets."""
        spec = obj.get("spec")
        res = rt.resource
        if rt.group == "":
            if res == "pods":
                _default_pod_spec(obj.setdefault("spec", {}))
                if old is None:
                    _default_pod_create(obj)
            elif res == "namespaces":
                meta = obj["metadata"]
                name = meta.get("name") or ""
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
                if old is None:
                    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
                    obj.setdefault("status", {}).setdefault("phase", "Active")
            elif res == "services":
                _default_service(obj.setdefault("spec", {}), old)
                obj.setdefault("status", {"loadBalancer": {}})
            elif res == "persistentvolumeclaims":
                obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
                if old is None:
                    obj.setdefault("status", {}).setdefault("phase", "Pending")
            elif res == "secrets":
                _default_secret(obj)
            elif res == "persistentvolumes" and old is None:
                obj.setdefault("status", {}).setdefault("phase", "Pending")
        elif rt.group in ("apps", "batch") and res in _TEMPLATE_KINDS and isinstance(spec, dict):
            _default_workload(rt, obj, spec, old)
        elif rt.group in _KUBEVIRT_GROUPS:
            obj.setdefault("status", {})

    # ---------------------------------------------------------------- validation

    def validate(self, rt: ResourceType, obj: Obj, old: Obj | None = None) -> list[Cause]:
        """Field causes that make ``obj`` invalid; [] when it is valid."""
        causes = _validate_meta(rt, obj, old)
        spec = obj.get("spec")
        res = rt.resource
        if rt.group == "" and res == "pods":
            if not isinstance(spec, dict):
                causes.append(required("spec.containers"))
            else:
                causes += _validate_pod_spec(spec, "spec")
        elif rt.group in ("apps", "batch") and res in _TEMPLATE_KINDS:
            causes += _validate_workload(rt, spec)
        elif rt.group == "kubevirt.io" and res == "virtualmachines":
            tmpl = spec.get("template") if isinstance(spec, dict) else None
            if not isinstance(tmpl, dict):
                causes.append(required("spec.template"))
            elif not isinstance(tmpl.get("spec"), dict) or "domain" not in tmpl["spec"]:
                causes.append(required("spec.template.spec.domain"))
        elif rt.group == "" and res == "services" and isinstance(spec, dict):
            causes += _validate_service(spec)
        return causes

    # ---------------------------------------------------------------- services

    def _allocate(self, rt: ResourceType, obj: Obj, old: Obj | None) -> None:
        spec = obj["spec"]
        name = obj["metadata"].get("name", "")
        if old is None and spec.get("type") != "ExternalName":
            ip = spec.get("clusterIP")
            if not ip:
                ip = self._next_free_ip()
            elif ip != "None":
                self._claim_ip(rt, name, ip)
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = self._next_node_port()
                else:
                    self._node_ports.add(int(port["nodePort"]))

    def _next_free_ip(self) -> str:
        last = int(SERVICE_CIDR.broadcast_address)
        first = int(SERVICE_CIDR.network_address) + 2
        for _ in range(SERVICE_CIDR.num_addresses):
            cand = self._next_ip
            self._next_ip = cand + 1 if cand < last - 1 else first
            if cand not in self._ips:
                self._ips.add(cand)
                return str(ipaddress.ip_address(cand))
        raise ApiError(500, "InternalError", "range is full")

    def _claim_ip(self, rt: ResourceType, name: str, ip: str) -> None:
        field = "spec.clusterIPs"
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            raise invalid_error(
                rt, name, [invalid_value(field, [ip], "must be a valid IP address")]
            ) from None
        if addr not in SERVICE_CIDR:
            detail = (
                f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range."
                f" The range of valid IPs is {SERVICE_CIDR}"
            )
            raise invalid_error(rt, name, [invalid_value(field, [ip], detail)])
        if int(addr) in self._ips:
            detail = f"failed to allocate IP {ip}: provided IP is already allocated"
            raise invalid_error(rt, name, [invalid_value(field, [ip], detail)])
        self._ips.add(int(addr))

    def _next_node_port(self) -> int:
        for _ in range(2768):
            port = self._next_port
            self._next_port = port + 1 if port < 32767 else 30000
            if port not in self._node_ports:
                self._node_ports.add(port)
                return port
        raise ApiError(500, "InternalError", "range is full")

    def release(self, rt: ResourceType, obj: Obj) -> None:
        """Free what ``obj`` held (a removed Service's clusterIP and nodePorts)."""
        if rt.group != "" or rt.resource != "services":
            return
        spec = obj.get("spec") or {}
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            with contextlib.suppress(ValueError):
                self._ips.discard(int(ipaddress.ip_address(ip)))
        for port in spec.get("ports") or []:
            self._node_ports.discard(port.get("nodePort") or 0)


# -------------------------------------------------------------------- pods


def _default_secret(obj: Obj) -> None:
    """Fold write-only ``stringData`` into ``data`` (base64; it wins over ``data``), type Opaque.

    As kube-apiserver does (pkg/apis/core/v1/conversion.go Convert_v1_Secret_To_core_Secret,
    pkg/apis/core/v1/defaults.go SetDefaults_Secret).
    """
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = obj.get("data")
        if not isinstance(data, dict):
            data = obj["data"] = {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    obj.setdefault("type", "Opaque")


def _pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _default_containers(containers: Any) -> None:
    if not isinstance(containers, list):
        return
    for c in containers:
        if not isinstance(c, dict):
            continue
        c.setdefault("imagePullPolicy", _pull_policy(str(c.get("image") or "")))
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        for port in c.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def _default_pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    sa = spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", sa)
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    _default_containers(spec.get("containers"))
    _default_containers(spec.get("initContainers"))


def _default_pod_create(pod: Obj) -> None:
    spec = pod["spec"]
    spec.setdefault("priority", 0)
    tolerations = spec.setdefault("tolerations", [])
    if isinstance(tolerations, list):
        have = {t.get("key") for t in tolerations if isinstance(t, dict)}
        for key, seconds in _DEFAULT_TOLERATIONS:
            if key not in have:
                tolerations.append(
                    {
                        "key": key,
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": seconds,
                    }
                )
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        res = c.get("resources") if isinstance(c, dict) else None
        if isinstance(res, dict) and isinstance(res.get("limits"), dict):
            requests = res.setdefault("requests", {})
            for k, v in res["limits"].items():
                requests.setdefault(k, v)
    status = pod.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", qos_class(spec))


_SUFFIX: dict[str, int | Fraction] = {
    "": 1, "m": Fraction(1, 1000), "u": Fraction(1, 10**6), "n": Fraction(1, 10**9),
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip
_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[a-zA-Z]*)$")


def parse_quantity(value: Any) -> Fraction:
    """A resource.Quantity (``100m``, ``1Gi``, ``1e3``) as an exact number; 0 if unparsable."""
    return _parse_quantity(str(value).strip())


@lru_cache(maxsize=4096)
def _nanos(text: str) -> int:
    return int(_parse_quantity(text) * 10**9)


@lru_cache(maxsize=4096)
def _parse_quantity(text: str) -> Fraction:
    m = _QUANTITY_RE.match(text)
    if not m:
        return Fraction(0)
    try:
        number = Fraction(m.group(1))
    except ValueError:
        return Fraction(0)
    suffix = m.group(2)
    if suffix[:1] in ("e", "E"):
        return number * Fraction(10) ** int(suffix[1:])
    return number * _SUFFIX[suffix] if suffix in _SUFFIX else Fraction(0)


def qos_class(spec: Obj) -> str:
    """The pod QoS class (Guaranteed, Burstable, BestEffort) from requests and limits."""
    requests: dict[str, int] = {}
    limits: dict[str, int] = {}
    guaranteed = True
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        res = (c.get("resources") if isinstance(c, dict) else None) or {}
        for name, q in (res.get("requests") or {}).items():
            if name in ("cpu", "memory") and (v := _nanos(str(q))) > 0:
                requests[name] = requests.get(name, 0) + v
        found = set()
        for name, q in (res.get("limits") or {}).items():
            if name in ("cpu", "memory") and (v := _nanos(str(q))) > 0:
                found.add(name)
                limits[name] = limits.get(name, 0) + v
        if found != {"cpu", "memory"}:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    same = all(limits.get(k) == v for k, v in requests.items())
    if guaranteed and same and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"


def _validate_containers(containers: Any, path: str, causes: list[Cause]) -> None:
    seen: set[str] = set()
    for i, c in enumerate(containers):
        p = f"{path}[{i}]"
        if not isinstance(c, dict):
            causes.append(required(p))
            continue
        name = c.get("name")
        if not name:
            causes.append(required(f"{p}.name"))
        elif errs := name_errors(str(name), "label"):
            causes += [invalid_value(f"{p}.name", name, e) for e in errs]
        elif name in seen:
            causes.append(
                {
                    "reason": "FieldValueDuplicate",
                    "message": f"Duplicate value: {go_quote(name)}",
                    "field": f"{p}.name",
                }
            )
        seen.add(str(name))
        if not c.get("image"):
            causes.append(required(f"{p}.image"))


def _validate_pod_spec(spec: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        causes.append(required(f"{path}.containers"))
    else:
        _validate_containers(containers, f"{path}.containers", causes)
    if isinstance(spec.get("initContainers"), list):
        _validate_containers(spec["initContainers"], f"{path}.initContainers", causes)
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        causes.append(
            not_supported(f"{path}.restartPolicy", policy, ("Always", "OnFailure", "Never"))
        )
    return causes


# -------------------------------------------------------------------- metadata


def _validate_meta(rt: ResourceType, obj: Obj, old: Obj | None) -> list[Cause]:
    meta = obj["metadata"]
    causes: list[Cause] = []
    rule = _NAME_KIND.get((rt.group, rt.resource), "subdomain")
    name = meta.get("name")
    gen = meta.get("generateName")
    if not name and not gen:
        causes.append(required("metadata.name", "name or generateName is required"))
    if gen and old is None:
        causes += [
            invalid_value("metadata.generateName", gen, e) for e in name_errors(gen, rule, True)
        ]
    if name:
        causes += [invalid_value("metadata.name", name, e) for e in name_errors(name, rule)]
    labels = meta.get("labels") or {}
    for key, value in labels.items():
        causes += [invalid_value("metadata.labels", key, e) for e in label_key_errors(key)]
        if not isinstance(value, str):
            causes.append(invalid_value("metadata.labels", value, "must be a string"))
            continue
        causes += [invalid_value("metadata.labels", value, e) for e in label_value_errors(value)]
    for key in meta.get("annotations") or {}:
        causes += [invalid_value("metadata.annotations", key, e) for e in label_key_errors(key)]
    if old is not None and old["metadata"].get("deletionTimestamp"):
        before = set(old["metadata"].get("finalizers") or ())
        extra = sorted(set(meta.get("finalizers") or ()) - before)
        if extra:
            detail = (
                "no new finalizers can be added if the object is being deleted, found new"
                f" finalizers {go_quote(extra)}"
            )
            causes.append(forbidden_field("metadata.finalizers", detail))
    return causes


# -------------------------------------------------------------------- workloads


def _default_workload(rt: ResourceType, obj: Obj, spec: Obj, old: Obj | None) -> None:
    tmpl = spec.get("template")
    if isinstance(tmpl, dict) and isinstance(tmpl.get("spec"), dict):
        _default_pod_spec(tmpl["spec"])
    res = rt.resource
    if res in ("deployments", "replicasets", "statefulsets"):
        spec.setdefault("replicas", 1)
    if res in ("deployments", "statefulsets", "daemonsets"):
        spec.setdefault("revisionHistoryLimit", 10)
    # status defaults only on create: on update the stored status dict is shared, never mutated
    status = obj.setdefault("status", {}) if old is None else {}
    if res == "deployments":
        spec.setdefault(
            "strategy",
            {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
        )
        spec.setdefault("progressDeadlineSeconds", 600)
    elif res in ("replicasets", "statefulsets"):
        status.setdefault("replicas", 0)
        if res == "statefulsets":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            spec.setdefault(
                "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
            )
    elif res == "daemonsets":
        spec.setdefault(
            "updateStrategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        )
        for key in (
            "currentNumberScheduled",
            "desiredNumberScheduled",
            "numberMisscheduled",
            "numberReady",
        ):
            status.setdefault(key, 0)
    elif res == "jobs":
        _default_job(obj, spec, old)


def _default_job(obj: Obj, spec: Obj, old: Obj | None) -> None:
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if old is not None and "selector" not in spec and "selector" in old.get("spec", {}):
        spec["selector"] = old["spec"]["selector"]
    meta = obj["metadata"]
    uid = meta.get("uid")
    if uid and "selector" not in spec:
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        tmpl = spec.get("template")
        if isinstance(tmpl, dict):
            labels = tmpl.setdefault("metadata", {}).setdefault("labels", {})
            name = meta.get("name", "")
            labels.update(
                {
                    "batch.kubernetes.io/controller-uid": uid,
                    "batch.kubernetes.io/job-name": name,
                    "controller-uid": uid,
                    "job-name": name,
                }
            )


def _validate_workload(rt: ResourceType, spec: Any) -> list[Cause]:
    if not isinstance(spec, dict):
        return (
            [required("spec.template")]
            if rt.resource == "jobs"
            else [required("spec.selector"), required("spec.template")]
        )
    causes: list[Cause] = []
    selector = spec.get("selector")
    if rt.resource in _WORKLOADS and not selector:
        causes.append(required("spec.selector"))
    tmpl = spec.get("template")
    if not isinstance(tmpl, dict):
        causes.append(required("spec.template"))
        return causes
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    if isinstance(selector, dict) and selector:
        try:
            matched = label_selector_from_object(selector).matches(labels)
        except ApiError:
            matched = False
        if not matched:
            causes.append(
                invalid_value(
                    "spec.template.metadata.labels",
                    labels,
                    "`selector` does not match template `labels`",
                )
            )
    tspec = tmpl.get("spec")
    if not isinstance(tspec, dict):
        causes.append(required("spec.template.spec.containers"))
        return causes
    causes += _validate_pod_spec(tspec, "spec.template.spec")
    policy = tspec.get("restartPolicy")
    if rt.resource == "jobs" and policy not in ("OnFailure", "Never"):
        causes.append(
            not_supported("spec.template.spec.restartPolicy", policy, ("OnFailure", "Never"))
        )
    elif rt.resource in _WORKLOADS and policy != "Always":
        causes.append(not_supported("spec.template.spec.restartPolicy", policy, ("Always",)))
    return causes


# -------------------------------------------------------------------- services


def _default_service(spec: Obj, old: Obj | None) -> None:
    spec.setdefault("type", "ClusterIP")
    if old is not None and not spec.get("clusterIP"):
        old_spec = old.get("spec") or {}
        if old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec["clusterIPs"] = old_spec.get("clusterIPs") or [old_spec["clusterIP"]]
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])


def _validate_service(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    stype = spec.get("type")
    if stype not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        causes.append(
            not_supported(
                "spec.type", stype, ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
            )
        )
    ports = spec.get("ports")
    if stype != "ExternalName" and spec.get("clusterIP") != "None" and not ports:
        causes.append(required("spec.ports"))
    for i, port in enumerate(ports or []):
        if not isinstance(port, dict) or not isinstance(port.get("port"), int):
            causes.append(required(f"spec.ports[{i}].port"))
    return causes

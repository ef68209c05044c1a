"""Defaulting and validation (422 bodies) of the simulated API server."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pytest_kubevirt_burner.sim.admission import (
    Admission,
    go_quote,
    invalid_error,
    name_errors,
    parse_quantity,
    qos_class,
)
from pytest_kubevirt_burner.sim.errors import ApiError
from pytest_kubevirt_burner.sim.registry import Registry

REG = Registry.builtin()
PODS = REG.core("pods")
NS = REG.core("namespaces")
SVC = REG.core("services")
PVC = REG.core("persistentvolumeclaims")
CM = REG.core("configmaps")
DEPLOY = REG.lookup("apps", "deployments")
RS = REG.lookup("apps", "replicasets")
STS = REG.lookup("apps", "statefulsets")
DS = REG.lookup("apps", "daemonsets")
JOB = REG.lookup("batch", "jobs")
VM = REG.lookup("kubevirt.io", "virtualmachines")
DV = REG.lookup("cdi.kubevirt.io", "datavolumes")


def admit(rt: Any, obj: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    obj.setdefault("metadata", {})
    Admission().admit(rt, obj, old)
    return obj


def rejected(rt: Any, obj: dict[str, Any], adm: Admission | None = None) -> ApiError:
    obj.setdefault("metadata", {})
    with pytest.raises(ApiError) as info:
        (adm or Admission()).admit(rt, obj)
    assert info.value.code == 422 and info.value.reason == "Invalid"
    return info.value


def causes(e: ApiError) -> list[dict[str, str]]:
    assert e.details is not None
    return list(e.details["causes"])


def pod_spec(**kw: Any) -> dict[str, Any]:
    return {"containers": [{"name": "c", "image": "img"}], **kw}


def template(labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": labels or {"app": "a"}}, "spec": pod_spec(**spec)}


# ------------------------------------------------------------------ names


def test_missing_name_exact_body() -> None:
    e = rejected(PODS, {"spec": pod_spec()})
    assert (
        e.message
        == 'Pod "" is invalid: metadata.name: Required value: name or generateName is required'
    )
    assert e.details == {
        "name": "",
        "kind": "Pod",
        "causes": [
            {
                "reason": "FieldValueRequired",
                "message": "Required value: name or generateName is required",
                "field": "metadata.name",
            }
        ],
    }


def test_invalid_subdomain_name() -> None:
    e = rejected(CM, {"metadata": {"name": "Bad_Name"}})
    assert causes(e) == [
        {
            "reason": "FieldValueInvalid",
            "field": "metadata.name",
            "message": 'Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of'
            " lower case alphanumeric characters, '-' or '.', and must start and end with an"
            " alphanumeric character (e.g. 'example.com', regex used for validation is"
            " '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        }
    ]
    assert e.message.startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value')
    admit(CM, {"metadata": {"name": "a.b-c"}})
    e = rejected(CM, {"metadata": {"name": "a" * 254}})
    assert causes(e)[0]["message"].endswith("must be no more than 253 characters")


def test_namespace_names_are_labels() -> None:
    e = rejected(NS, {"metadata": {"name": "a.b"}})
    assert "a lowercase RFC 1123 label must consist" in causes(e)[0]["message"]
    e = rejected(NS, {"metadata": {"name": "a" * 64}})
    assert "must be no more than 63 characters" in causes(e)[0]["message"]
    admit(NS, {"metadata": {"name": "a" * 63}})


def test_service_names_are_dns1035() -> None:
    e = rejected(SVC, {"metadata": {"name": "1abc"}, "spec": {"ports": [{"port": 80}]}})
    assert "a DNS-1035 label must consist" in causes(e)[0]["message"]


def test_generate_name_is_validated_as_prefix() -> None:
    admit(CM, {"metadata": {"generateName": "web-", "name": "web-abcde"}})
    e = rejected(CM, {"metadata": {"generateName": "Web-", "name": "web-abcde"}})
    assert causes(e)[0]["field"] == "metadata.generateName"


def test_grouped_kind_is_qualified_in_message() -> None:
    e = rejected(DEPLOY, {"metadata": {"name": "d"}, "spec": {"template": template()}})
    assert e.message == 'Deployment.apps "d" is invalid: spec.selector: Required value'
    assert e.details is not None
    assert (e.details["kind"], e.details["group"]) == ("Deployment", "apps")


def test_multiple_causes_are_bracketed() -> None:
    e = rejected(PODS, {"metadata": {"name": "p"}, "spec": {"containers": [{}]}})
    assert e.message == (
        'Pod "p" is invalid: [spec.containers[0].name: Required value,'
        " spec.containers[0].image: Required value]"
    )


def test_label_and_annotation_validation() -> None:
    e = rejected(CM, {"metadata": {"name": "c", "labels": {"a": "bad value"}}})
    assert causes(e)[0]["field"] == "metadata.labels"
    assert causes(e)[0]["message"].startswith('Invalid value: "bad value": a valid label must')
    e = rejected(CM, {"metadata": {"name": "c", "labels": {"-k": "v"}}})
    assert causes(e)[0]["message"].startswith('Invalid value: "-k": name part must')
    e = rejected(CM, {"metadata": {"name": "c", "annotations": {"a/b/c": "x"}}})
    assert causes(e)[0]["field"] == "metadata.annotations"


def test_name_errors_helper() -> None:
    assert name_errors("abc", "label") == []
    assert name_errors("abc-", "label", prefix=True) == []
    assert name_errors("abc-", "label") != []


# ------------------------------------------------------------------ pods


def test_pod_containers_required() -> None:
    e = rejected(PODS, {"metadata": {"name": "p"}, "spec": {}})
    assert causes(e) == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}
    ]
    assert e.message == 'Pod "p" is invalid: spec.containers: Required value'
    e = rejected(PODS, {"metadata": {"name": "p"}, "spec": {"containers": []}})
    assert causes(e)[0]["field"] == "spec.containers"
    e = rejected(PODS, {"metadata": {"name": "p"}})
    assert causes(e)[0]["field"] == "spec.containers"


def test_pod_container_fields() -> None:
    spec = {"containers": [{"name": "a", "image": "i"}, {"name": "b"}]}
    e = rejected(PODS, {"metadata": {"name": "p"}, "spec": spec})
    assert causes(e) == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.containers[1].image",
        }
    ]
    spec = {"containers": [{"name": "a", "image": "i"}, {"name": "a", "image": "i"}]}
    e = rejected(PODS, {"metadata": {"name": "p"}, "spec": spec})
    assert causes(e)[0] == {
        "reason": "FieldValueDuplicate",
        "message": 'Duplicate value: "a"',
        "field": "spec.containers[1].name",
    }
    spec = {"containers": [{"name": "A", "image": "i"}]}
    assert causes(rejected(PODS, {"metadata": {"name": "p"}, "spec": spec}))[0]["field"] == (
        "spec.containers[0].name"
    )
    spec = {"containers": [{"name": "a", "image": "i"}], "initContainers": [{"name": "i"}]}
    e = rejected(PODS, {"metadata": {"name": "p"}, "spec": spec})
    assert causes(e)[0]["field"] == "spec.initContainers[0].image"
    e = rejected(PODS, {"metadata": {"name": "p"}, "spec": pod_spec(restartPolicy="Sometimes")})
    assert causes(e)[0]["message"] == (
        'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'
    )


def test_pod_defaults() -> None:
    p = admit(PODS, {"metadata": {"name": "p"}, "spec": pod_spec()})
    spec = p["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    assert spec["securityContext"] == {} and spec["enableServiceLinks"] is True
    assert {t["key"] for t in spec["tolerations"]} == {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    }
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "Always"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["resources"] == {}
    assert p["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_pod_defaults_keep_given_values() -> None:
    spec = pod_spec(restartPolicy="Never", terminationGracePeriodSeconds=0)
    spec["containers"][0]["imagePullPolicy"] = "Never"
    spec["containers"][0]["ports"] = [{"containerPort": 80}]
    p = admit(PODS, {"metadata": {"name": "p"}, "spec": spec})
    assert p["spec"]["restartPolicy"] == "Never"
    assert p["spec"]["terminationGracePeriodSeconds"] == 0
    assert p["spec"]["containers"][0]["imagePullPolicy"] == "Never"
    assert p["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry:5000/nginx", "Always"),
        ("registry:5000/nginx:1", "IfNotPresent"),
        ("nginx@sha256:abc", "IfNotPresent"),
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    spec = {"containers": [{"name": "c", "image": image}]}
    p = admit(PODS, {"metadata": {"name": "p"}, "spec": spec})
    assert p["spec"]["containers"][0]["imagePullPolicy"] == policy


def _res(requests: dict[str, str] | None = None, limits: dict[str, str] | None = None) -> Any:
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ([{}], "BestEffort"),
        ([_res({"cpu": "100m"})], "Burstable"),
        ([_res(limits={"cpu": "1", "memory": "1Gi"})], "Guaranteed"),
        ([_res({"cpu": "1000m", "memory": "1024Mi"}, {"cpu": "1", "memory": "1Gi"})], "Guaranteed"),
        ([_res({"cpu": "500m", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})], "Burstable"),
        ([_res(limits={"cpu": "1"})], "Burstable"),
        ([_res(limits={"cpu": "1", "memory": "1Gi"}), {}], "Burstable"),
        ([_res({"ephemeral-storage": "1Gi"})], "BestEffort"),
    ],
)
def test_qos_class(resources: list[dict[str, Any]], qos: str) -> None:
    containers = [{"name": f"c{i}", "image": "i", "resources": r} for i, r in enumerate(resources)]
    p = admit(PODS, {"metadata": {"name": "p"}, "spec": {"containers": containers}})
    assert p["status"]["qosClass"] == qos


def test_limits_default_requests() -> None:
    spec = {"containers": [{"name": "c", "image": "i", "resources": _res(limits={"cpu": "1"})}]}
    p = admit(PODS, {"metadata": {"name": "p"}, "spec": spec})
    assert p["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1"}


def test_parse_quantity() -> None:
    assert parse_quantity("100m") * 10 == 1
    assert parse_quantity("1Gi") == 1024**3
    assert parse_quantity("1G") == 10**9
    assert parse_quantity("1e3") == 1000
    assert parse_quantity("0.5") * 2 == 1
    assert parse_quantity(2) == 2
    assert parse_quantity("junk") == 0
    assert qos_class({"containers": []}) == "BestEffort"


def test_pod_update_does_not_touch_status() -> None:
    old = admit(PODS, {"metadata": {"name": "p"}, "spec": pod_spec()})
    new = copy.deepcopy(old)
    del new["status"]
    Admission().admit(PODS, new, old)
    assert "status" not in new


# ------------------------------------------------------------------ workloads


def test_deployment_defaults() -> None:
    d = admit(
        DEPLOY,
        {
            "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": template()},
        },
    )
    spec = d["spec"]
    assert spec["replicas"] == 1 and spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    assert spec["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"


@pytest.mark.parametrize("rt", [DEPLOY, RS, STS, DS])
def test_workloads_need_selector_and_template(rt: Any) -> None:
    e = rejected(rt, {"metadata": {"name": "w"}, "spec": {}})
    assert [c["field"] for c in causes(e)] == ["spec.selector", "spec.template"]
    e = rejected(rt, {"metadata": {"name": "w"}})
    assert [c["field"] for c in causes(e)] == ["spec.selector", "spec.template"]


@pytest.mark.parametrize("rt", [DEPLOY, RS, STS, DS])
def test_workload_selector_must_match_template(rt: Any) -> None:
    spec = {"selector": {"matchLabels": {"app": "b"}}, "template": template({"app": "a"})}
    e = rejected(rt, {"metadata": {"name": "w"}, "spec": spec})
    assert causes(e) == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.template.metadata.labels",
            "message": 'Invalid value: map[string]string{"app":"a"}: `selector` does not match'
            " template `labels`",
        }
    ]


def test_workload_template_pod_spec_validated() -> None:
    spec = {
        "selector": {"matchLabels": {"app": "a"}},
        "template": {"metadata": {"labels": {"app": "a"}}, "spec": {}},
    }
    e = rejected(DEPLOY, {"metadata": {"name": "d"}, "spec": spec})
    assert causes(e)[0]["field"] == "spec.template.spec.containers"
    spec = {"selector": {"matchLabels": {"app": "a"}}, "template": template(restartPolicy="Never")}
    e = rejected(DEPLOY, {"metadata": {"name": "d"}, "spec": spec})
    assert causes(e)[0]["message"] == 'Unsupported value: "Never": supported values: "Always"'


def test_replica_defaults_and_statuses() -> None:
    for rt in (RS, STS):
        spec = {"selector": {"matchLabels": {"app": "a"}}, "template": template()}
        obj = admit(rt, {"metadata": {"name": "w"}, "spec": spec})
        assert obj["spec"]["replicas"] == 1 and obj["status"]["replicas"] == 0
    spec = {"selector": {"matchLabels": {"app": "a"}}, "template": template()}
    ds = admit(DS, {"metadata": {"name": "w"}, "spec": spec})
    assert ds["status"]["desiredNumberScheduled"] == 0 and "replicas" not in ds["spec"]


def test_job_defaults_and_validation() -> None:
    e = rejected(JOB, {"metadata": {"name": "j"}, "spec": {}})
    assert [c["field"] for c in causes(e)] == ["spec.template"]
    e = rejected(JOB, {"metadata": {"name": "j"}, "spec": {"template": template()}})
    assert causes(e)[0] == {
        "reason": "FieldValueNotSupported",
        "field": "spec.template.spec.restartPolicy",
        "message": 'Unsupported value: "Always": supported values: "OnFailure", "Never"',
    }
    j = admit(
        JOB,
        {
            "metadata": {"name": "j", "uid": "u-1"},
            "spec": {"template": template(restartPolicy="Never")},
        },
    )
    spec = j["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    labels = spec["template"]["metadata"]["labels"]
    assert labels["batch.kubernetes.io/job-name"] == "j" and labels["controller-uid"] == "u-1"


# ------------------------------------------------------------------ other kinds


def test_namespace_defaults() -> None:
    ns = admit(NS, {"metadata": {"name": "n"}})
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "n"}
    old = copy.deepcopy(ns)
    new = copy.deepcopy(ns)
    new["metadata"]["labels"] = {}
    Admission().admit(NS, new, old)
    assert new["metadata"]["labels"] == {"kubernetes.io/metadata.name": "n"}


def test_service_defaults_and_allocation() -> None:
    adm = Admission()
    svc = {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
    adm.admit(SVC, svc)
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP" and spec["clusterIP"].startswith("10.")
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["sessionAffinity"] == "None" and svc["status"] == {"loadBalancer": {}}
    other = {"metadata": {"name": "t"}, "spec": {"ports": [{"port": 80}]}}
    adm.admit(SVC, other)
    assert other["spec"]["clusterIP"] != spec["clusterIP"]
    dup = {
        "metadata": {"name": "u"},
        "spec": {"clusterIP": spec["clusterIP"], "ports": [{"port": 1}]},
    }
    e = rejected(SVC, dup, adm)
    assert "provided IP is already allocated" in causes(e)[0]["message"]
    assert causes(e)[0]["field"] == "spec.clusterIPs"
    out = {"metadata": {"name": "v"}, "spec": {"clusterIP": "1.2.3.4", "ports": [{"port": 1}]}}
    assert "not in the valid range" in causes(rejected(SVC, out, adm))[0]["message"]
    adm.release(SVC, svc)
    again = {
        "metadata": {"name": "w"},
        "spec": {"clusterIP": spec["clusterIP"], "ports": [{"port": 1}]},
    }
    adm.admit(SVC, again)


def test_service_headless_nodeport_and_validation() -> None:
    adm = Admission()
    headless = {"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}}
    adm.admit(SVC, headless)
    assert headless["spec"]["clusterIP"] == "None"
    np = {"metadata": {"name": "n"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    adm.admit(SVC, np)
    assert 30000 <= np["spec"]["ports"][0]["nodePort"] <= 32767
    e = rejected(SVC, {"metadata": {"name": "s"}, "spec": {}}, adm)
    assert causes(e)[0]["field"] == "spec.ports"
    e = rejected(
        SVC, {"metadata": {"name": "s"}, "spec": {"type": "Weird", "ports": [{"port": 1}]}}, adm
    )
    assert causes(e)[0]["reason"] == "FieldValueNotSupported"


def test_pvc_and_kubevirt_defaults() -> None:
    pvc = admit(PVC, {"metadata": {"name": "p"}, "spec": {}})
    assert pvc["status"] == {"phase": "Pending"} and pvc["spec"]["volumeMode"] == "Filesystem"
    # a valid VM needs a runStrategy and a DataVolume a source (KubeVirt's and CDI's webhooks)
    vm_spec = {"runStrategy": "Halted", "template": {"spec": {"domain": {}}}}
    vm = admit(VM, {"metadata": {"name": "v"}, "spec": vm_spec})
    assert vm["status"] == {}
    dv = admit(DV, {"metadata": {"name": "d"}, "spec": {"source": {"blank": {}}}})
    assert dv["status"] == {}


def test_vm_validation() -> None:
    e = rejected(VM, {"metadata": {"name": "v"}, "spec": {}})
    assert e.message == 'VirtualMachine.kubevirt.io "v" is invalid: spec.template: Required value'
    e = rejected(VM, {"metadata": {"name": "v"}, "spec": {"template": {"spec": {}}}})
    assert causes(e)[0]["field"] == "spec.template.spec.domain"


def test_finalizer_rule_on_update() -> None:
    old = admit(CM, {"metadata": {"name": "c", "finalizers": ["a"]}})
    old["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    new = copy.deepcopy(old)
    new["metadata"]["finalizers"] = ["a", "b"]
    with pytest.raises(ApiError) as info:
        Admission().admit(CM, new, old)
    assert causes(info.value)[0] == {
        "reason": "FieldValueForbidden",
        "field": "metadata.finalizers",
        "message": "Forbidden: no new finalizers can be added if the object is being deleted,"
        ' found new finalizers []string{"b"}',
    }
    new["metadata"]["finalizers"] = []
    Admission().admit(CM, new, old)


def test_helpers() -> None:
    assert go_quote("a") == '"a"' and go_quote(["a", "b"]) == '[]string{"a", "b"}'
    assert go_quote({"b": "1", "a": "2"}) == 'map[string]string{"a":"2", "b":"1"}'
    e = invalid_error(CM, "c", [{"reason": "X", "message": "m", "field": "f"}])
    assert e.message == 'ConfigMap "c" is invalid: f: m'


def test_secret_string_data_is_folded_into_data() -> None:
    # kube-apiserver pkg/apis/core/v1/conversion.go: stringData overrides data, is not stored
    secret_rt = Registry.builtin().core("secrets")
    body = {"metadata": {"name": "s"}, "data": {"a": "eA==", "b": "eQ=="}, "stringData": {"b": "z"}}
    stored = admit(secret_rt, body)
    assert stored["data"] == {"a": "eA==", "b": "eg=="}
    assert "stringData" not in stored and stored["type"] == "Opaque"

"""API surface of a KubeVirt + CDI cluster on the simulator, through the official client."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, dynamic

from pytest_kubevirt_burner.sim.process import SimProcess

from ._simproc import Http, running, wait_for

# (apiVersion, kind) created by kube-burner-ocp's workloads: the YAML templates under cmd/config/
# of kube-burner/kube-burner-ocp@d09cdd30 (virt-*, cudn-density, udn-*, cluster-density-v2,
# node-density*, anp-density-pods, build-farm, egressip, network-policy) and the resources its
# Go code reads (pkg/workloads/helpers.go: StorageClass, StorageProfile, VolumeSnapshotClass,
# VolumeSnapshotContent).
KUBE_BURNER_OCP_KINDS = [
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "Pod"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Namespace"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("snapshot.storage.k8s.io/v1", "VolumeSnapshot"),
    ("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass"),
    ("snapshot.storage.k8s.io/v1", "VolumeSnapshotContent"),
    ("kubevirt.io/v1", "VirtualMachine"),
    ("kubevirt.io/v1", "VirtualMachineInstance"),
    ("kubevirt.io/v1", "VirtualMachineInstanceMigration"),
    ("snapshot.kubevirt.io/v1beta1", "VirtualMachineSnapshot"),
    ("cdi.kubevirt.io/v1beta1", "DataVolume"),
    ("cdi.kubevirt.io/v1beta1", "DataSource"),
    ("cdi.kubevirt.io/v1beta1", "StorageProfile"),
    # the bundled "openshift" CRD set
    ("route.openshift.io/v1", "Route"),
    ("image.openshift.io/v1", "ImageStream"),
    ("build.openshift.io/v1", "Build"),
    ("k8s.ovn.org/v1", "UserDefinedNetwork"),
    ("k8s.ovn.org/v1", "ClusterUserDefinedNetwork"),
    ("k8s.ovn.org/v1", "AdminPolicyBasedExternalRoute"),
    ("k8s.ovn.org/v1", "EgressFirewall"),
    ("k8s.ovn.org/v1", "EgressIP"),
    ("k8s.ovn.org/v1", "RouteAdvertisements"),
    ("sriovnetwork.openshift.io/v1", "SriovNetwork"),
    ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"),
]

# groups every KubeVirt + CDI cluster serves (kubevirt/kubevirt
# pkg/virt-operator/resource/generate/components/crds.go; kubernetes staging/src/k8s.io/api)
GROUP_RESOURCES = {
    "rbac.authorization.k8s.io/v1": {"roles", "rolebindings", "clusterroles",
                                     "clusterrolebindings"},
    "storage.k8s.io/v1": {"storageclasses", "csidrivers", "csinodes", "volumeattachments"},
    "policy/v1": {"poddisruptionbudgets"},
    "events.k8s.io/v1": {"events"},
    "coordination.k8s.io/v1": {"leases"},
    "discovery.k8s.io/v1": {"endpointslices"},
    "snapshot.storage.k8s.io/v1": {"volumesnapshots", "volumesnapshotcontents",
                                   "volumesnapshotclasses"},
    "kubevirt.io/v1": {"kubevirts", "virtualmachines", "virtualmachineinstances"},
    "snapshot.kubevirt.io/v1beta1": {"virtualmachinesnapshots", "virtualmachinesnapshotcontents",
                                     "virtualmachinerestores"},
    "clone.kubevirt.io/v1beta1": {"virtualmachineclones"},
    "export.kubevirt.io/v1beta1": {"virtualmachineexports"},
    "pool.kubevirt.io/v1alpha1": {"virtualmachinepools"},
    "instancetype.kubevirt.io/v1beta1": {"virtualmachineinstancetypes",
                                         "virtualmachineclusterinstancetypes",
                                         "virtualmachinepreferences",
                                         "virtualmachineclusterpreferences"},
    "migrations.kubevirt.io/v1alpha1": {"migrationpolicies"},
    "cdi.kubevirt.io/v1beta1": {"datavolumes", "datasources", "dataimportcrons", "storageprofiles"},
}  # fmt: skip


@pytest.fixture(scope="module")
def simproc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """One simulator process serving the bundled OpenShift CRDs."""
    with running(tmp_path_factory.mktemp("surface"), extra_args=["--crd", "openshift"]) as proc:
        yield proc


@pytest.fixture(scope="module")
def api(simproc: SimProcess) -> Iterator[Any]:
    """ApiClient from the simulator's kubeconfig."""
    api_client = config.new_client_from_config(config_file=str(simproc.kubeconfig))
    try:
        yield api_client
    finally:
        api_client.close()


def _resource_names(sim: SimProcess, group_version: str) -> set[str]:
    prefix = "/api/" if "/" not in group_version else "/apis/"
    http = Http(sim)
    try:
        data = http.json("GET", prefix + group_version)
    finally:
        http.close()
    return {r["name"] for r in data["resources"]}


@pytest.mark.parametrize("group_version", sorted(GROUP_RESOURCES))
def test_groups_are_discoverable(simproc: SimProcess, group_version: str) -> None:
    assert GROUP_RESOURCES[group_version] <= _resource_names(simproc, group_version)


def test_every_kube_burner_ocp_kind_is_served(api: Any) -> None:
    dyn = dynamic.DynamicClient(api)
    missing = []
    for api_version, kind in KUBE_BURNER_OCP_KINDS:
        try:
            dyn.resources.get(api_version=api_version, kind=kind)
        except dynamic.exceptions.ResourceNotFoundError:
            missing.append(f"{api_version} {kind}")
    assert missing == []


def test_bundled_crds_are_established_and_usable(api: Any) -> None:
    ext = client.ApiextensionsV1Api(api)
    crd = ext.read_custom_resource_definition("userdefinednetworks.k8s.ovn.org")
    assert any(c.type == "Established" and c.status == "True" for c in crd.status.conditions)
    custom = client.CustomObjectsApi(api)
    route = {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "r1"},
        "spec": {"to": {"kind": "Service", "name": "web"}},
    }
    created = custom.create_namespaced_custom_object(
        "route.openshift.io", "v1", "default", "routes", route
    )
    assert created["spec"]["to"]["name"] == "web"
    custom.delete_namespaced_custom_object("route.openshift.io", "v1", "default", "routes", "r1")


def test_default_kubernetes_service(api: Any) -> None:
    # kube-apiserver's pkg/controlplane/controller/kubernetesservice: ClusterIP = first service IP,
    # port "https" 443, labels component=apiserver, provider=kubernetes
    svc = client.CoreV1Api(api).read_namespaced_service("kubernetes", "default")
    assert svc.spec.cluster_ip == "10.96.0.1"
    assert [(p.name, p.port, p.protocol) for p in svc.spec.ports] == [("https", 443, "TCP")]
    assert svc.metadata.labels == {"component": "apiserver", "provider": "kubernetes"}
    slices = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=kubernetes"
    )
    assert len(slices.items) == 1


def test_root_ca_configmap_in_every_namespace(api: Any) -> None:
    # kube-controller-manager's pkg/controller/certificates/rootcacertpublisher/publisher.go
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="surface-ca")))
    for ns in core.list_namespace().items:
        name = ns.metadata.name
        cm = wait_for(lambda n=name: _root_ca(core, n), timeout=20)
        assert cm.data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
        assert "kubernetes.io/description" in cm.metadata.annotations
    core.delete_namespaced_config_map("kube-root-ca.crt", "surface-ca")
    recreated = wait_for(lambda: _root_ca(core, "surface-ca"), timeout=20)
    assert recreated.data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    core.delete_namespace("surface-ca")


def _root_ca(core: Any, ns: str) -> Any:
    try:
        return core.read_namespaced_config_map("kube-root-ca.crt", ns)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def test_default_storage_class_snapshot_class_and_profile(api: Any) -> None:
    # kube-burner-ocp pkg/workloads/helpers.go getStorageAndSnapshotClasses: the default class,
    # its StorageProfile's dataImportCronSourceFormat and a VolumeSnapshotClass of the same driver
    classes = client.StorageV1Api(api).list_storage_class().items
    defaults = [
        sc
        for sc in classes
        if (sc.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class")
        == "true"
    ]
    assert len(defaults) == 1
    default = defaults[0]
    custom = client.CustomObjectsApi(api)
    profile = custom.get_cluster_custom_object(
        "cdi.kubevirt.io", "v1beta1", "storageprofiles", default.metadata.name
    )
    assert profile["status"]["storageClass"] == default.metadata.name
    assert profile["status"]["dataImportCronSourceFormat"] in ("pvc", "snapshot")
    snap_classes = custom.list_cluster_custom_object(
        "snapshot.storage.k8s.io", "v1", "volumesnapshotclasses"
    )["items"]
    assert [c["driver"] for c in snap_classes] == [default.provisioner]


def test_node_leases(api: Any) -> None:
    # kubelet pkg/kubelet/nodelease: kube-node-lease/<node>, holder = node, 40 s, owned by the Node
    nodes = {n.metadata.name: n for n in client.CoreV1Api(api).list_node().items}
    leases = client.CoordinationV1Api(api).list_namespaced_lease("kube-node-lease").items
    assert {le.metadata.name for le in leases} == set(nodes)
    for lease in leases:
        assert lease.spec.holder_identity == lease.metadata.name
        assert lease.spec.lease_duration_seconds == 40
        assert lease.spec.renew_time is not None
        owner = lease.metadata.owner_references[0]
        assert (owner.kind, owner.uid) == ("Node", nodes[lease.metadata.name].metadata.uid)


def test_kubevirt_and_cdi_resources(api: Any) -> None:
    custom = client.CustomObjectsApi(api)
    kv = custom.get_namespaced_custom_object(
        "kubevirt.io", "v1", "kubevirt", "kubevirts", "kubevirt"
    )
    assert kv["status"]["phase"] == "Deployed"
    assert kv["status"]["observedKubeVirtVersion"].startswith("v1.")
    cdi = custom.get_cluster_custom_object("cdi.kubevirt.io", "v1beta1", "cdis", "cdi")
    assert cdi["status"]["phase"] == "Deployed"


def test_rbac_policy_and_events_objects(api: Any) -> None:
    rbac = client.RbacAuthorizationV1Api(api)
    rule = client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list"])
    rbac.create_namespaced_role(
        "default", client.V1Role(metadata=client.V1ObjectMeta(name="reader"), rules=[rule])
    )
    binding = client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="reader"),
        role_ref=client.V1RoleRef(
            api_group="rbac.authorization.k8s.io", kind="Role", name="reader"
        ),
        subjects=[client.RbacV1Subject(kind="ServiceAccount", name="default", namespace="default")],
    )
    rbac.create_namespaced_role_binding("default", binding)
    assert rbac.read_namespaced_role_binding("reader", "default").role_ref.name == "reader"
    pdb = client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="pdb"),
        spec=client.V1PodDisruptionBudgetSpec(
            min_available=1, selector=client.V1LabelSelector(match_labels={"a": "b"})
        ),
    )
    client.PolicyV1Api(api).create_namespaced_pod_disruption_budget("default", pdb)
    names = [
        p.metadata.name
        for p in client.PolicyV1Api(api).list_namespaced_pod_disruption_budget("default").items
    ]
    assert names == ["pdb"]


def test_endpoint_slice_follows_service_pods(api: Any) -> None:
    core = client.CoreV1Api(api)
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1ServiceSpec(
            selector={"app": "web"}, ports=[client.V1ServicePort(name="http", port=80)]
        ),
    )
    core.create_namespaced_service("default", svc)
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="web-0", labels={"app": "web"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
    )
    core.create_namespaced_pod("default", pod)
    disc = client.DiscoveryV1Api(api)

    def ready_slice() -> Any:
        items = disc.list_namespaced_endpoint_slice(
            "default", label_selector="kubernetes.io/service-name=web"
        ).items
        ready = [e for s in items for e in s.endpoints or [] if e.conditions.ready]
        return items[0] if ready else None

    eps = wait_for(ready_slice, timeout=30)
    assert eps.address_type == "IPv4"
    assert eps.metadata.labels["endpointslice.kubernetes.io/managed-by"] == (
        "endpointslice-controller.k8s.io"
    )
    assert eps.endpoints[0].target_ref.name == "web-0"
    assert [(p.name, p.port) for p in eps.ports] == [("http", 80)]


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_kubevirt_burner.sim", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: Pod\napiVersion: v1\n", "not an apiextensions.k8s.io/v1 CustomResourceDefinition"),
        ("a: [1, 2\n", "crd.yaml"),
        (
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            "metadata: {name: wrong}\nspec: {group: x.io, scope: Namespaced,"
            " names: {plural: foos, kind: Foo}, versions: [{name: v1, served: true}]}\n",
            "metadata.name must be 'foos.x.io'",
        ),
    ],
)
def test_bad_crd_file_exits_2_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    crd = tmp_path / "crd.yaml"
    crd.write_text(content)
    out = _cli("--kubeconfig", str(tmp_path / "kc"), "--crd", str(crd), tmp_path=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "--crd" in lines[0] and "crd.yaml" in lines[0] and message in lines[0]


def test_crd_directory_is_served(tmp_path: Path) -> None:
    crds = tmp_path / "crds"
    crds.mkdir()
    (crds / "foo.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: foos.example.io}\nspec: {group: example.io, scope: Namespaced,"
        " names: {plural: foos, singular: foo, kind: Foo},"
        " versions: [{name: v1, served: true, storage: true}]}\n"
    )
    with running(tmp_path / "sim", extra_args=["--crd", str(crds)]) as proc:
        assert "foos" in wait_for(lambda: _resource_names(proc, "example.io/v1"))


def test_secret_string_data_through_the_client(api: Any) -> None:
    # kube-apiserver folds the write-only stringData into data (base64) and defaults the type
    core = client.CoreV1Api(api)
    secret = client.V1Secret(
        metadata=client.V1ObjectMeta(name="sd"), string_data={"password": "s3cret"}
    )
    created = core.create_namespaced_secret("default", secret)
    assert created.data == {"password": "czNjcmV0"} and created.string_data is None
    assert core.read_namespaced_secret("sd", "default").type == "Opaque"

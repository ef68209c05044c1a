"""pytest-kubevirt-burner: performance and scale testing of Kubernetes and KubeVirt clusters."""

__version__ = "0.1.0"

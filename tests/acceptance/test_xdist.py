"""pytest-xdist: every worker runs with the controller's run uuid."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("xdist")


def test_every_worker_uses_the_controllers_uuid(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_uuid="""
        import os
        from pytest_kubevirt_burner.stashkeys import SESSION_KEY

        def test_uuid(request):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            uuid = request.config.stash[SESSION_KEY].run.uuid
            with open(f"uuid-{worker}.txt", "w") as fh:
                fh.write(uuid)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--dist", "each")
    result.assert_outcomes(passed=2)
    uuids = {p.name: p.read_text() for p in Path(pytester.path).glob("uuid-gw*.txt")}
    assert sorted(uuids) == ["uuid-gw0.txt", "uuid-gw1.txt"]
    assert len(set(uuids.values())) == 1

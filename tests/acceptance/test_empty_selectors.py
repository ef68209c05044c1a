"""A delete, patch or day-2 op whose selector matches nothing fails unless allow_empty=True."""

from __future__ import annotations

from typing import Any

import pytest


def test_empty_selectors_fail_unless_allowed(pytester: pytest.Pytester, run_burner: Any) -> None:
    pytester.makepyfile(
        test_empty="""
        import pytest

        NOTHING = {"app": "matches-nothing"}

        @pytest.mark.delete(kind="ConfigMap", label_selector=NOTHING)
        def test_delete(burner):
            burner.run()

        @pytest.mark.kubevirt_op("stop", label_selector=NOTHING)
        def test_stop(burner):
            burner.run()

        @pytest.mark.delete(kind="ConfigMap", label_selector=NOTHING, allow_empty=True)
        def test_delete_allowed(burner):
            assert burner.run().expected == {"ConfigMap": 0}
        """
    )
    result = run_burner("--burner-uuid", "acc-empty-1")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*test-delete: the selectors matched no object (ConfigMap app=matches-nothing); "
            "pass allow_empty=True if that is intended*",
            "*test-stop: the selectors matched no object (VirtualMachine app=matches-nothing)*",
        ],
        consecutive=False,
    )

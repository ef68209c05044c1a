"""Keys of what the plugin keeps in ``config.stash`` (a leaf module: any layer may read them).

The session object is typed for mypy only (``TYPE_CHECKING``): reading the stash does not import
the session module, so lower layers (report/) can read the run's settings without an upward
import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .session import BurnerSession

SESSION_KEY: pytest.StashKey[BurnerSession] = pytest.StashKey()
"""``config.stash[SESSION_KEY]``: the session's BurnerSession (set when the plugin configures)."""

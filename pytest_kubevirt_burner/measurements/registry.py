"""The measurement registry: measurement name -> recorder factory, and which jobs get it.

A factory is a :class:`~pytest_kubevirt_burner.measurements.base.Recorder` subclass. Its class
attributes describe the measurement (``name``, ``prefix`` of its documents, ``transitions`` as
``(quantileName, document field)`` pairs, ``watch_specs``); calling it with the keyword arguments
``job_name, uuid, metadata, clock, sink, ignore_existing`` builds the recorder of one job.
``MeasurementSet`` builds every recorder through this registry, SLO targets are validated
against it and the report reads quantile names from it.

Built-in measurements are chosen by the objects a job creates (``default_measurements``).
A measurement registered by a plugin (through the ``pytest_burner_register_measurements`` hook)
names the kinds and day-2 operations it applies to, and is added to every job that creates one
of those kinds or runs one of those operations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .base import Recorder

RecorderFactory = type[Recorder]


@dataclass(frozen=True)
class Applies:
    """Jobs an added measurement applies to: those creating ``kinds`` or running ``operations``."""

    kinds: frozenset[str] = frozenset()
    operations: frozenset[str] = frozenset()

    def to(self, kinds: set[str], operations: set[str]) -> bool:
        """Whether a job creating ``kinds`` and running ``operations`` gets the measurement."""
        return bool(self.kinds & kinds or self.operations & operations)


class MeasurementRegistry(dict[str, RecorderFactory]):
    """Measurement name -> recorder factory (a ``Recorder`` subclass), plus added measurements.

    It is a dict, so ``registry[name]`` is the factory and ``name in registry`` validates a name.
    """

    def __init__(self, builtins: Iterable[RecorderFactory] = ()) -> None:
        super().__init__((cls.name, cls) for cls in builtins)
        self.added: dict[str, Applies] = {}

    def register(
        self,
        factory: RecorderFactory,
        *,
        kinds: Iterable[str] = (),
        operations: Iterable[str] = (),
    ) -> None:
        """Add a measurement; jobs creating one of ``kinds`` or running ``operations`` get it.

        Raises ValueError when the name is taken or the factory is not a complete Recorder.
        """
        if not (isinstance(factory, type) and issubclass(factory, Recorder)):
            raise ValueError(f"a measurement factory must be a Recorder subclass, got {factory!r}")
        missing = [
            a
            for a in ("name", "prefix", "transitions", "name_fields", "watch_specs")
            if not hasattr(factory, a)
        ]
        if missing:
            raise ValueError(f"measurement {factory.__name__}: missing {', '.join(missing)}")
        if factory.name in self:
            raise ValueError(f"measurement {factory.name!r} is already registered")
        self[factory.name] = factory
        self.added[factory.name] = Applies(frozenset(kinds), frozenset(operations))

    def added_for(self, kinds: Iterable[str], operations: Iterable[str] = ()) -> list[str]:
        """Added measurements applying to a job that creates ``kinds`` or runs ``operations``."""
        present, ops = set(kinds), set(operations)
        return [name for name, applies in self.added.items() if applies.to(present, ops)]

    def snapshot(self) -> dict[str, RecorderFactory]:
        """The current entries (to :meth:`restore` them when a pytest session ends)."""
        return dict(self)

    def restore(self, entries: dict[str, RecorderFactory]) -> None:
        """Forget every measurement registered after ``entries`` was taken."""
        for name in [n for n in self if n not in entries]:
            del self[name]
            self.added.pop(name, None)

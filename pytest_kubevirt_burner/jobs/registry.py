"""The job types: kube-burner's ``jobType`` value -> the class that runs it.

A new job type is one module under ``jobs/`` with a ``JobBase`` subclass (or any class
following the ``Job`` protocol of jobs/base.py) and one line here.
"""

from __future__ import annotations

from ..errors import JobSpecError
from ..results import JobResult
from .base import Job, JobBase
from .context import JobContext
from .delete import DeleteJob
from .density import DensityJob
from .kubevirt import KubevirtJob
from .patch import PatchJob
from .read import ReadJob
from .watches import WatchFactory

JOB_TYPES: dict[str, type[JobBase]] = {
    cls.job_type: cls for cls in (DensityJob, DeleteJob, PatchJob, ReadJob, KubevirtJob)
}


def job_for(ctx: JobContext, result: JobResult, watch_factory: WatchFactory) -> Job:
    """The job object that runs ``ctx.spec``."""
    cls = JOB_TYPES.get(ctx.spec.job_type)
    if cls is None:
        raise JobSpecError(f"{ctx.spec.name}: job type {ctx.spec.job_type!r} is not supported")
    return cls(ctx, result, watch_factory)

"""``compute``: this machine or a Dask cluster, and the training sample of large studies."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from scorelab.config.base import _Section

__all__ = ["MIN_WORKER_MEMORY", "Compute", "DaskCompute", "memory_bytes"]

#: Units of a memory size (compute.dask.memory_limit), in bytes.
_MEMORY_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
                 "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
#: A Dask worker below this much memory cannot hold a partition and LightGBM's data.
MIN_WORKER_MEMORY = 256 * 2**20


def memory_bytes(text: str) -> int:
    """``"2GiB"``, ``"512 MB"`` or ``"1e9"`` as bytes (ValueError naming the valid units)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in _MEMORY_UNITS:
        raise ValueError(f"{text!r} is not a memory size; give a number with a unit "
                         "(e.g. 2GiB, 512MiB, 4GB)")
    return int(float(match.group(1)) * _MEMORY_UNITS[match.group(2)])


class DaskCompute(_Section):
    """The Dask cluster of a ``backend: dask`` study."""

    address: str | None = Field(
        None, pattern=r"^(tcp|tls|inproc|ucx)://\S+$",
        description="Scheduler of a running cluster (tcp://host:port); null = scorelab "
        "starts a LocalCluster on this machine (loopback only) and stops it at the end.")
    connect_timeout: float = Field(5.0, gt=0.0, le=300.0, description="Seconds to wait for "
                                   "the scheduler at address before giving up.")
    n_workers: int = Field(2, ge=1, le=1024, description="Worker processes of the "
                           "LocalCluster.")
    threads_per_worker: int = Field(1, ge=1, le=256, description="Threads per worker.")
    memory_limit: str = Field("2GiB", description="Memory per worker of the LocalCluster "
                              "(e.g. 2GiB, 512MiB); at least 256MiB.")
    partitions: int | None = Field(
        None, ge=1, le=100_000, description="Partitions of the population (citizen-id "
        "ranges); null = two per worker.")
    @model_validator(mode="before")
    @classmethod
    def _moved_sample_size(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sample_size" in data:
            raise ValueError("compute.dask.sample_size moved to compute.sample_size (it "
                             "applies on this machine too); write it there")
        return data

    @field_validator("memory_limit")
    @classmethod
    def _enough_memory(cls, value: str) -> str:
        if memory_bytes(value) < MIN_WORKER_MEMORY:
            raise ValueError(f"memory_limit {value!r} is too small; a worker needs at least "
                             "256MiB")
        return value


class Compute(_Section):
    """Where the study runs: this process (local) or a Dask cluster."""

    backend: Literal["local", "dask"] = Field(
        "local", description="local: this machine; dask: population, tree families and "
        "scoring on a Dask cluster (needs the extra: pip install 'scorelab[dask]').")
    sample_size: int | None = Field(
        50_000, ge=100, le=50_000_000, description="Families that gain little from more "
        "rows (scorecard binning, MLP, expert calibrators, hybrids, mitigation variants, "
        "the calibrated forest) train on a seeded sample of at most this many of each "
        "fold's training citizens and score every held-out citizen; LightGBM and the "
        "forest train on all of them. Below it nothing is sampled. null = every row.")
    dask: DaskCompute = Field(default_factory=DaskCompute, description="The Dask cluster.")

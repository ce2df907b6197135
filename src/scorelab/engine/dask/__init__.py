"""The Dask backend (``compute.backend: dask``): the population drawn per partition, the
fold engine's fits on the workers, and per-partition maps for the stages."""

"""The statistics the benchmarks print."""


def percentile(values, q, key=None):
    """The q-quantile of `values` (nearest rank, ordered by `key` if given); None for none."""
    if not values:
        return None
    ordered = sorted(values, key=key)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

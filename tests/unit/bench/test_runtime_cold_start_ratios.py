"""The runtime cold start's ratio is the median of its pairs', leaving out disturbed pairs."""

from bench.machine import STEAL_LIMIT
from bench.runtime_coldstart import pair_ratio


def runs(*seconds: float) -> list[dict[str, float]]:
    return [{"invoke_to_response_s": s} for s in seconds]


def test_pairs_in_the_machines_slow_state_still_compare_like_with_like() -> None:
    # Medians of the two series: 0.62 against 0.40 (1.55x); each pair says 1.1x.
    function = runs(0.44, 0.44, 0.682, 0.682, 0.682)
    hello = runs(0.40, 0.40, 0.62, 0.62, 0.62)
    result = pair_ratio(function, hello, [0.0] * 5)
    assert round(result["ratio"], 3) == 1.1
    assert result["undisturbed_only"]


def test_a_pair_the_hypervisor_disturbed_is_left_out_unless_too_few_are_left() -> None:
    stolen = STEAL_LIMIT + 0.1
    function, hello = runs(0.44, 0.44, 0.9), runs(0.40, 0.40, 0.40)
    kept = pair_ratio(function, hello, [0.0, 0.0, stolen])
    assert (round(kept["ratio"], 3), kept["pairs_used"]) == (1.1, 2)

    everything = pair_ratio(function, hello, [stolen, stolen, 0.0])
    assert (everything["pairs_used"], everything["undisturbed_only"]) == (3, False)

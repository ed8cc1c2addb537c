"""The runtime cold start's ratios (bench/runtime_coldstart.py), pairs the hypervisor disturbed
left out."""

from bench.machine import STEAL_LIMIT
from bench.runtime_coldstart import ratios


def runs(*seconds: float, cpu: float | None = None) -> list[dict[str, float]]:
    return [
        {"invoke_to_response_s": s, **({} if cpu is None else {"invoke_to_response_cpu_s": cpu})}
        for s in seconds
    ]


def test_the_ratio_of_the_medians_and_of_each_pair() -> None:
    # Three pairs in the machine's slow state, two in its fast one.
    function = runs(0.44, 0.44, 0.682, 0.682, 0.682, cpu=0.33)
    hello = runs(0.40, 0.40, 0.62, 0.62, 0.62, cpu=0.30)
    result = ratios(function, hello, [0.0] * 5)
    assert round(result["ratio"], 3) == 1.1
    assert round(result["pair_ratio"], 3) == 1.1
    assert round(result["cpu_ratio"], 3) == 1.1
    assert result["undisturbed_only"]


def test_a_pair_the_hypervisor_disturbed_is_left_out_unless_too_few_are_left() -> None:
    stolen = STEAL_LIMIT + 0.1
    function, hello = runs(0.44, 0.44, 0.9), runs(0.40, 0.40, 0.40)
    kept = ratios(function, hello, [0.0, 0.0, stolen])
    assert (round(kept["ratio"], 3), kept["pairs_used"]) == (1.1, 2)
    assert "cpu_ratio" not in kept  # no cgroup figures

    everything = ratios(function, hello, [stolen, stolen, 0.0])
    assert (everything["pairs_used"], everything["undisturbed_only"]) == (3, False)

"""The leakage-free corpus drops every benchmark test input, whatever other source has it."""

from cloud.train.corpus import BENCHMARKS, TEST_INPUT_SOURCES, exclude_test_inputs, overlap_report


def test_every_test_input_is_dropped_and_counted():
    # Synthetic sources map (strings are placeholders, labelled as such), shaped as build_corpus's.
    jdft2d = BENCHMARKS["matbench_jdft2d"]
    sources = {
        "only-in-a-benchmark": {jdft2d},
        "benchmark-and-pool": {jdft2d, "protostructures/mp-wyk-test.csv.gz"},
        "discovery-test": {"stability/mpts_52_test.csv.gz"},
        "pool-only": {"protostructures/mp-wyk-test.csv.gz", "stability/mpts_52_val.csv.gz"},
    }
    built = exclude_test_inputs({"sources": sources})
    assert set(built["sources"]) == {"pool-only"}
    assert built["excluded"]["strings_dropped"] == 3
    assert set(built["excluded"]["test_input_sources"]) == set(TEST_INPUT_SOURCES)
    assert all(v["strings"] == 0 for v in overlap_report(built["sources"]).values())
    assert set(BENCHMARKS.values()) <= set(TEST_INPUT_SOURCES)

"""The Prometheus text format and the latency histogram."""
from app.ops.exposition import Histogram, family, histogram_samples


def test_a_gauge_family_has_help_type_and_labelled_samples():
    text = family("lagc_evaluations", "gauge", "Evaluations by state.",
                  [("", {"state": "queued"}, 3), ("", {"state": "failed"}, 0)])
    assert text.splitlines() == ["# HELP lagc_evaluations Evaluations by state.", "# TYPE lagc_evaluations gauge",
                                 'lagc_evaluations{state="queued"} 3', 'lagc_evaluations{state="failed"} 0']


def test_label_values_are_escaped():
    assert 'x{worker="a\\"b"} 1' in family("x", "gauge", "h", [("", {"worker": 'a"b'}, 1)])


def test_histogram_buckets_are_cumulative_and_end_with_infinity():
    histogram = Histogram()
    for seconds in (0.001, 0.02, 0.02, 30):
        histogram.observe(seconds)
    samples = histogram_samples(histogram.snapshot(), {"worker": "w"})
    buckets = {s[1]["le"]: s[2] for s in samples if s[0] == "_bucket"}
    assert buckets["0.005"] == 1 and buckets["0.025"] == 3 and buckets["10"] == 3 and buckets["+Inf"] == 4
    assert [s[2] for s in samples if s[0] == "_count"] == [4]

"""`python -m benchmarks` runs, writes well-formed JSON and flags a ratio worse than the baseline.

No timing is asserted: the baselines here are made up so that the verdict is known whatever the
machine's speed (a ratio can never be below 0.001 of a real one, nor above a million times it).
"""
import json

from benchmarks.run import main


def _run(tmp_path, baseline_ratios, *extra):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"tolerance": 0.25, "ratios": baseline_ratios}))
    output = tmp_path / "results.json"
    code = main(["--quick", "--only", "market_data", "--baseline", str(baseline), "--output", str(output), *extra])
    return code, json.loads(output.read_text()), baseline


def test_quick_market_data_run_writes_figures_and_passes_a_generous_baseline(tmp_path):
    code, document, _ = _run(tmp_path, {"book_update_depth20": 1e6, "book_update_depth200": 1e6})
    assert code == 0
    assert document["regressions"] == [] and document["quick"] is True
    assert document["machine"]["cpus"] >= 1 and document["machine"]["python"]
    [result] = document["results"]
    names = [row["name"] for row in result["figures"]]
    assert names == ["book_update_depth20", "book_update_depth200", "book_event_depth20_changed2",
                     "book_event_depth20_changed40", "book_level_changed_depth20", "book_event_depth20_changed2_pool",
                     "book_pool_update_depth20", "book_event_depth200_changed2", "book_decode_depth20_vs_diff2"]
    [per_level] = result["breakdown"].values()   # the cost per changed level, on each side
    assert {line for line in per_level if "per changed level" in line} == {
        f"{side}, {changed} of 40 changed, per changed level" for side in ("Stellar", "Binance") for changed in (2, 40)}
    for row in result["figures"]:
        assert row["subject"]["samples"] > 0 and row["floor"]["samples"] > 0
        assert row["ratio"] == round(row["subject"]["median_us"] / row["floor"]["median_us"], 3)
    assert set(document["ratios"]) == set(names) - {"book_decode_depth20_vs_diff2"}   # reported, not checked


def test_a_ratio_above_the_baseline_tolerance_is_a_regression(tmp_path):
    code, document, _ = _run(tmp_path, {"book_update_depth20": 0.001})
    assert code == 1
    [regression] = document["regressions"]
    assert regression["name"] == "book_update_depth20" and regression["baseline"] == 0.001


def test_update_baseline_rewrites_it_from_the_run(tmp_path):
    code, document, baseline = _run(tmp_path, {"book_update_depth20": 0.001, "other_figure": 2.0},
                                    "--update-baseline")
    assert code == 0
    rewritten = json.loads(baseline.read_text())["ratios"]
    assert rewritten["book_update_depth20"] == document["ratios"]["book_update_depth20"]
    assert rewritten["other_figure"] == 2.0   # figures this run did not measure are kept


def test_update_baseline_with_names_rewrites_only_those(tmp_path):
    code, document, baseline = _run(tmp_path, {"book_update_depth20": 0.001, "book_update_depth200": 0.002},
                                    "--update-baseline", "book_update_depth200")
    assert code == 0
    rewritten = json.loads(baseline.read_text())["ratios"]
    assert rewritten["book_update_depth20"] == 0.001
    assert rewritten["book_update_depth200"] == document["ratios"]["book_update_depth200"]


def test_update_baseline_refuses_a_figure_the_run_did_not_measure(tmp_path):
    code, _, baseline = _run(tmp_path, {"book_update_depth20": 0.001}, "--update-baseline", "no_such_figure")
    assert code == 2
    assert json.loads(baseline.read_text())["ratios"] == {"book_update_depth20": 0.001}

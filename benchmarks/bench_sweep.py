"""Benchmark: sweep throughput on 1 and 2 cores, parallel efficiency, per-run overhead.

    python benchmarks/bench_sweep.py            # 200 baseline-year runs on 1, then 2 workers
    python benchmarks/bench_sweep.py --quick    # 16 runs: a smoke version

Measures, for the same runs (baseline scenario, 365 days, seeds 0..N-1):
- simulate() in this process on a few seeds: the cost of the model itself;
- the sweep on a Dask LocalCluster with 1 worker process, then with 2, end to end
  (cluster start-up, composing, shipping tasks and results, writing nothing);
- where the overhead goes: inside the worker beyond simulate() (updating params,
  summarising), dispatch (scheduler, transfer, start-up, amortised), and how fast
  simulate() runs in a worker compared with in-process for the same seeds;
- runs/s, parallel efficiency (2-worker rate / twice the 1-worker rate), and the
  overhead per run beyond the simulation (1-worker seconds per run minus the in-process
  simulate() time).
Target (issue 5): 1,000 baseline-year runs in under 10 minutes on 2 cores, efficiency
above 80%. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per configuration (default 200)")
    parser.add_argument("--horizon-days", type=int, default=365)
    parser.add_argument("--quick", action="store_true", help="16 runs, for a smoke test")
    args = parser.parse_args()
    runs = 16 if args.quick else args.runs

    from sim.config import load_params, with_updates
    from sim.run import simulate
    from sim.sweep import Experiment, run_experiments

    base = load_params()
    simulate(with_updates(base, {"seed": 10_000, "horizon_days": args.horizon_days}), keep_events=False)  # warm-up
    # runs cost differently by seed: time in-process a spread of the sweep's own seeds
    probe_seeds = list(range(0, runs, max(1, runs // (4 if args.quick else 12))))
    sim_times = {}
    for seed in probe_seeds:
        params = with_updates(base, {"seed": seed, "horizon_days": args.horizon_days})
        start = time.perf_counter()
        simulate(params, keep_events=False)
        sim_times[seed] = time.perf_counter() - start
    sim_s = statistics.mean(sim_times.values())
    print(f"simulate() in-process, {args.horizon_days} days: {sim_s:.3f} s a run (mean of seeds {probe_seeds})")

    experiments = [Experiment(f"bench/{i:04d}", (), {}, seed=i) for i in range(runs)]
    results = {}
    for workers in (1, 2):
        start = time.perf_counter()
        table = run_experiments(experiments, engine="processes", workers=workers,
                                horizon_days=args.horizon_days, progress=False)
        elapsed = time.perf_counter() - start
        assert (table["status"] == "ok").all(), table.loc[table["status"] != "ok", "error"].head().tolist()
        results[workers] = {"elapsed": elapsed, "table": table}
        print(f"{workers} worker(s): {runs} runs in {elapsed:.1f} s = {runs / elapsed:.2f} runs/s "
              f"(in workers: simulate {table['sim_s'].mean():.3f} s, whole run {table['wall_s'].mean():.3f} s a run)")

    t1, t2 = results[1]["elapsed"], results[2]["elapsed"]
    probe_in_worker = results[1]["table"].set_index("seed").loc[probe_seeds, "sim_s"].mean()
    rate1, rate2 = runs / t1, runs / t2
    same = results[1]["table"]["kg_reaching_russia"].equals(results[2]["table"]["kg_reaching_russia"])
    summary = {
        "runs": runs,
        "horizon_days": args.horizon_days,
        "simulate_s_in_process": round(sim_s, 4),
        "runs_per_s_1core": round(rate1, 3),
        "runs_per_s_2core": round(rate2, 3),
        "parallel_efficiency": round(rate2 / (2 * rate1), 3),
        "overhead_per_run_s": round(t1 / runs - sim_s, 4),
        "overhead_per_run_in_worker_s": round(float((results[1]["table"]["wall_s"] - results[1]["table"]["sim_s"]).mean()), 4),
        "dispatch_per_run_s": round(t1 / runs - float(results[1]["table"]["wall_s"].mean()), 4),
        "simulate_in_worker_vs_in_process": round(float(probe_in_worker) / sim_s, 3),
        "projected_1000_runs_min": round(1000 / rate2 / 60, 2),
        "same_results_1_and_2_workers": bool(same),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    print(f"parallel efficiency {summary['parallel_efficiency']:.0%}; overhead {summary['overhead_per_run_s']:.3f} s a run "
          f"beyond simulate(); 1,000 runs on 2 cores: {summary['projected_1000_runs_min']:.1f} min (target < 10)")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

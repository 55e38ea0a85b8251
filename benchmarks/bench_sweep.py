"""Benchmark: sweep throughput on 1 and 2 cores, parallel efficiency, per-run overhead.

    python benchmarks/bench_sweep.py            # 200 baseline-year runs on 1, and on 2 workers
    python benchmarks/bench_sweep.py --quick    # 16 runs: a smoke version

Measures, for the same runs (baseline scenario, 365 days, seeds 0..N-1):
- simulate() in this process on a spread of the same seeds: the cost of the model itself;
- the sweep on a Dask LocalCluster of 1 worker process and on one of 2 (each started once;
  start-up and the first composing are timed apart), through the same code path as
  ``engine="processes"``: shipping experiments, running, collecting rows;
- runs/s, parallel efficiency (2-worker rate / twice the 1-worker rate), and the
  overhead per run beyond the simulation (1-worker seconds per run minus the in-process
  simulate() time), split into time in the worker outside simulate() and dispatch.
The two configurations alternate in rounds over the same runs, so that a burst of other
work on a shared machine hits both alike. Target (issue 5): 1,000 baseline-year runs in
under 10 minutes on 2 cores, efficiency above 80%. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per configuration (default 200)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument("--horizon-days", type=int, default=365)
    parser.add_argument("--quick", action="store_true", help="16 runs in 2 rounds, for a smoke test")
    parser.add_argument("--transit", default="fast", choices=("fast", "reference"), help="the engine moving couriers (default fast)")
    args = parser.parse_args()
    runs, rounds = (16, 2) if args.quick else (args.runs, args.rounds)
    import distributed  # noqa: F401 -- its import sets its loggers' levels: quieten them after it

    for noisy in ("distributed", "tornado", "MESA"):  # the scheduler lives in this process
        logging.getLogger(noisy).setLevel(logging.WARNING)
    load_start = os.getloadavg()[0]

    import pandas as pd

    from sim.config import load_params, with_updates
    from sim.run import simulate
    from sim.sweep import Experiment, run_experiments
    from sim.sweep.runner import start_local_cluster

    base = with_updates(load_params(), {"transit": args.transit})
    simulate(with_updates(base, {"seed": 10_000, "horizon_days": args.horizon_days}), keep_events=False)  # warm-up
    probe_seeds = list(range(0, runs, max(1, runs // (4 if args.quick else 12))))
    sim_times = {}
    for seed in probe_seeds:
        params = with_updates(base, {"seed": seed, "horizon_days": args.horizon_days})
        start = time.perf_counter()
        simulate(params, keep_events=False)
        sim_times[seed] = time.perf_counter() - start
    sim_s = statistics.mean(sim_times.values())
    print(f"simulate() in-process, {args.horizon_days} days: {sim_s:.3f} s a run (mean of seeds {probe_seeds})")

    experiments = [Experiment(f"bench/{i:04d}", (), {"transit": args.transit}, seed=i) for i in range(runs)]
    clusters, startup = {}, {}
    for workers in (1, 2):
        start = time.perf_counter()
        clusters[workers] = start_local_cluster(workers)  # as engine="processes" starts it
        warm = [Experiment(f"warm/{w}", (), {"transit": args.transit}, seed=10_000 + w) for w in range(workers)]
        run_experiments(warm, engine="dask", scheduler_address=clusters[workers].scheduler_address,
                        horizon_days=5, progress=False)  # imports and composing in every worker
        startup[workers] = time.perf_counter() - start
        print(f"{workers} worker(s): cluster start-up and first composing {startup[workers]:.1f} s")

    elapsed, tables = {1: 0.0, 2: 0.0}, {1: [], 2: []}
    size = -(-runs // rounds)
    try:
        for r in range(rounds):
            chunk = experiments[r * size:(r + 1) * size]
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                start = time.perf_counter()
                table = run_experiments(chunk, engine="dask", scheduler_address=clusters[workers].scheduler_address,
                                        horizon_days=args.horizon_days, progress=False)
                elapsed[workers] += time.perf_counter() - start
                tables[workers].append(table)
            print(f"round {r + 1}/{rounds}: {len(chunk)} runs each, load {os.getloadavg()[0]:.1f}")
    finally:
        for cluster in clusters.values():
            cluster.close()
    tables = {w: pd.concat(t, ignore_index=True) for w, t in tables.items()}
    for workers in (1, 2):
        table = tables[workers]
        assert (table["status"] == "ok").all(), table.loc[table["status"] != "ok", "error"].head().tolist()
        print(f"{workers} worker(s): {runs} runs in {elapsed[workers]:.1f} s = {runs / elapsed[workers]:.2f} runs/s "
              f"(in workers: simulate {table['sim_s'].mean():.3f} s, whole run {table['wall_s'].mean():.3f} s a run)")

    t1, t2 = elapsed[1], elapsed[2]
    rate1, rate2 = runs / t1, runs / t2
    one = tables[1]
    summary = {
        "runs": runs,
        "horizon_days": args.horizon_days,
        "simulate_s_in_process": round(sim_s, 4),
        "runs_per_s_1core": round(rate1, 3),
        "runs_per_s_2core": round(rate2, 3),
        "parallel_efficiency": round(rate2 / (2 * rate1), 3),
        "overhead_per_run_s": round(t1 / runs - sim_s, 4),
        "overhead_per_run_in_worker_s": round(float((one["wall_s"] - one["sim_s"]).mean()), 4),
        "dispatch_per_run_s": round(t1 / runs - float(one["wall_s"].mean()), 4),
        "simulate_in_worker_vs_in_process": round(float(one.set_index("seed").loc[probe_seeds, "sim_s"].mean()) / sim_s, 3),
        "startup_s_2core": round(startup[2], 2),
        "projected_1000_runs_min": round((startup[2] + 1000 / rate2) / 60, 2),
        "projected_10000_runs_min": round((startup[2] + 10_000 / rate2) / 60, 2),
        "transit": args.transit,
        "same_results_1_and_2_workers": bool(one["kg_reaching_russia"].equals(tables[2]["kg_reaching_russia"])),
        "cpu_count": os.cpu_count(),
        "load_avg_1min_start": round(load_start, 2),
        "load_avg_1min_end": round(os.getloadavg()[0], 2),
    }
    summary["targets"] = {"runs_10000_min": {"target": 10, "measured": summary["projected_10000_runs_min"],
                                             "met": summary["projected_10000_runs_min"] <= 10}}
    print(f"parallel efficiency {summary['parallel_efficiency']:.0%}; overhead {summary['overhead_per_run_s']:.3f} s a run "
          f"beyond simulate(); 1,000 runs on 2 cores: {summary['projected_1000_runs_min']:.1f} min; 10,000 runs: "
          f"{summary['projected_10000_runs_min']:.1f} min (issue 13's target: at most 10)")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

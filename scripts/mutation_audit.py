"""Mutation audit: plant deliberate bugs, one at a time, and see whether the tests notice.

Each mutation replaces one exact piece of code (it must occur exactly once) in a scratch
copy of the repository; the model's tests then run against the copy (``-x``: the first
failure is enough). A mutation no test catches is a rule the suite does not check.

    python scripts/mutation_audit.py                         # all mutations, current tests
    python scripts/mutation_audit.py --tests-from 1ff0125    # the tests of another commit
    python scripts/mutation_audit.py --only sides_never_take_turns summary_written_first

Not part of the test suite (it runs the model's tests once per mutation: minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".venv", ".git", "outputs", "multirun", "results", "__pycache__", ".hypothesis",
                                ".pytest_cache", "*.egg-info", "notebooks", ".coverage*")
MODEL_TESTS = (   # quick ones first: with -x a caught mutation stops early
    "test_engine.py", "test_rules.py", "test_agents.py", "test_mass_balance.py", "test_determinism.py",
    "test_claims_rules.py", "test_regimes.py", "test_policies.py", "test_claims_policies.py")
OUTPUT_TESTS = ("test_claims_cli.py", "test_cli.py", "test_claims_docs.py")
NO_SHRINK = """

from hypothesis import Phase, settings as _settings  # added by scripts/mutation_audit.py
_settings.register_profile("mutation-audit", phases=[Phase.explicit, Phase.reuse, Phase.generate])
"""


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    what: str
    outputs: bool = False    # the mutation is in how outputs are written: run those tests first
    first: tuple[str, ...] = ()   # test files likeliest to catch it, run first (the rest still run)


KERNEL, AGENTS = "sim/engine/kernel.py", "sim/model/agents.py"

MUTATIONS = (
    # a rule changed in one engine only: the engines' run to the gram tells
    Mutation("fast_controlled_load_stopped_again", KERNEL,
             "    if w.slot_controlled[slot]:\n        return CLEARED\n", "",
             "fast engine: a controlled-delivery load is stopped again at later posts", first=("test_engine.py",)),
    Mutation("reference_bribes_not_in_costs", AGENTS,
             "            self.organisation.costs_usd += bribe\n", "",
             "reference engine: bribes paid are missing from traffickers' costs", first=("test_engine.py",)),
    Mutation("fast_sides_never_take_turns", KERNEL,
             "first_side = 0 if node_draw(w, node) < 0.5 else 1", "first_side = 0",
             "fast engine, single inspection: always the same side inspects", first=("test_engine.py",)),
    Mutation("fast_news_ignored", KERNEL,
             "node * n_conv + c, rules[NEWS_WEIGHT])", "node * n_conv + c, 0.0)",
             "fast engine: other organisations never learn from the news of a seizure", first=("test_engine.py",)),
    Mutation("reference_disruption_keeps_stock", AGENTS,
             "        stock, self.stock_g = self.stock_g, 0\n", "        stock = self.stock_g\n",
             "reference engine: an arrested organisation keeps its stock (and hands it on too)", first=("test_engine.py",)),
    # a rule both engines share
    Mutation("targeting_ignored", "sim/model/inspection.py",
             "return min(1.0, min(1.0, capacity_per_day / traffic_per_day) * targeting)",
             "return min(1.0, capacity_per_day / traffic_per_day)",
             "inspection: risk targeting by conveyance is ignored", first=("test_claims_rules.py",)),
    Mutation("bribe_size_ignored", "sim/model/corruption.py",
             "temptation = 1.0 - math.exp(-bribe_usd / bribe_scale_usd)", "temptation = 1.0",
             "bribery: any bribe tempts as much as the largest", first=("test_claims_rules.py",)),
    Mutation("route_choice_ignores_cost", "sim/model/routing.py",
             "utility[r] = (math.exp(log_arrive[r]) * market_price - cost_per_kg[r]) / temperature + log_path_size[r]",
             "utility[r] = math.exp(log_arrive[r]) * market_price / temperature + log_path_size[r]",
             "route choice ignores the trip cost", first=("test_claims_rules.py",)),
    Mutation("deterrence_forgets_cases", "sim/model/corruption.py",
             "return 1.0 - (1.0 - rules[BASE]) * (1.0 - rules[PER_CASE]) ** ring[HELD]",
             "return rules[BASE]",
             "corruption: cases found out never deter the other officers", first=("test_claims_rules.py",)),
    Mutation("tied_up_officers_inspect", "sim/model/inspection.py",
             "    on_duty = max(0.0, staff - tied_up) / staff if staff else 0.0\n",
             "    on_duty = 1.0\n",
             "capacity: officers tied up by a seizure go on inspecting", first=("test_claims_rules.py",)),
    Mutation("uav_units_do_not_add_up", "sim/model/policies.py",
             "spot = 1.0 - (1.0 - uav.spot_prob_per_unit) ** units", "spot = uav.spot_prob_per_unit",
             "UAVs: several units in range spot no more than one", first=("test_policies.py",)),
    Mutation("dedicated_profile_not_applied", "sim/model/policies.py",
             "    if profile is not None:\n        update[\"profile\"] = profile\n", "",
             "dedicated checkpoints: handles change, specialised inspection does not", first=("test_policies.py",)),
    Mutation("false_couriers_stage_whole_load", "sim/model/economics.py",
             "return int(np.rint(grams * recycle_share))", "return int(grams)",
             "false couriers: the whole load is re-staged, not recycle_share of it", first=("test_claims_rules.py",)),
    Mutation("customs_union_is_single_inspection", "sim/model/inspection.py",
             "factor = regime.cargo_inspection_factor if spec.cargo else regime.person_inspection_factor",
             "factor = regime.person_inspection_factor",
             "regime: the customs union opens cargo as often as it checks people", first=("test_claims_policies.py",)),
    Mutation("posts_open_cargo_like_people", "sim/model/model.py",
             "            return inspection.regime_factor(self.regime, spec)\n",
             "            return self.regime.person_inspection_factor\n",
             "regime: at the Kazakh-Russian posts cargo is opened as often as people are checked",
             first=("test_claims_policies.py",)),
    Mutation("budget_not_reaching_posts", "sim/model/model.py",
             "                                            * funding_factor(world, agency))",
             "                                            * world.inspection.funding_factor)",
             "budgets: budget policies never reach the posts' crews", first=("test_claims_policies.py",)),
    Mutation("disrupted_organisation_keeps_supply", "sim/engine/kernel.py",
             "        if not disrupted(w, o, day) or not hand_to_rivals(w, o, grams, day):\n",
             "        if True:\n",
             "a disrupted organisation keeps receiving its supply (fast engine)", first=("test_engine.py",)),
    # the books and outputs
    Mutation("kz_seizures_count_every_country", "sim/model/outcomes.py",
             "\"kg_seized_kz\": float(kg[country == \"KZ\"].sum()),", "\"kg_seized_kz\": float(kg.sum()),",
             "outputs: seizures in Kazakhstan count every country's", outputs=True, first=("test_claims_rules.py",)),
    Mutation("in_transit_series_forgets_deliveries", "sim/model/daily.py",
             "    out[3] = (counts[ENTERED_G] - counts[SEIZED_G] - counts[DELIVERED_G]) / 1000.0\n",
             "    out[3] = (counts[ENTERED_G] - counts[SEIZED_G]) / 1000.0\n",
             "outputs: the daily series' in-transit figure forgets deliveries", outputs=True, first=("test_mass_balance.py",)),
    Mutation("summary_written_first", "sim/outputs.py",
             "    clear_run_files(out, keep=streamed)   # the tables streamed here during the run\n",
             "    clear_run_files(out, keep=streamed)   # the tables streamed here during the run\n"
             "    _write_json_atomically(out / \"summary.json\", _summary_document(result))\n",
             "summary.json is written first instead of last", outputs=True, first=("test_claims_cli.py",)),
    Mutation("patrol_find_does_not_stop_load", "sim/engine/kernel.py",
             "            outcome = worse(outcome, face(w, slot, officer, node, day, -1, False, model_day))\n"
             "            if outcome == SEIZED:\n                return SEIZED\n",
             "            outcome = worse(outcome, face(w, slot, officer, node, day, -1, False, model_day))\n",
             "patrols: a load seized by a patrol travels on (fast engine)", first=("test_mass_balance.py",)),
)


def scratch_copy(tests_from: str | None) -> Path:
    root = Path(tempfile.mkdtemp(prefix="mutation-audit-"))
    work = root / "repo"
    shutil.copytree(REPO, work, ignore=IGNORE)
    if tests_from:
        shutil.rmtree(work / "tests")
        archive = subprocess.run(["git", "-C", str(REPO), "archive", tests_from, "tests"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    with (work / "tests" / "conftest.py").open("a") as conftest:   # a failure is enough: no shrinking
        conftest.write(NO_SHRINK)
    return work


def run_tests(work: Path, files: list[str]) -> tuple[bool, str]:
    """Whether the tests failed (the mutation was caught), and the first failing test."""
    env = {**os.environ, "PYTHONPATH": str(work)}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--hypothesis-profile=mutation-audit",
           *files]
    result = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    failed = [line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return result.returncode != 0, (failed[0] if failed else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests-from", help="take tests/ from this git commit (the suite before a change)")
    parser.add_argument("--only", nargs="*", help="names of the mutations to try")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    work = scratch_copy(args.tests_from)
    caught = 0
    try:
        for m in chosen:
            target = work / m.path
            original = target.read_text()
            if original.count(m.old) != 1:
                print(f"{m.name:38s} NOT APPLIED (code changed: the text occurs {original.count(m.old)} times)")
                continue
            target.write_text(original.replace(m.old, m.new))
            start = time.perf_counter()
            rest = (*OUTPUT_TESTS, *MODEL_TESTS) if m.outputs else (*MODEL_TESTS, *OUTPUT_TESTS)
            order = (*m.first, *(f for f in rest if f not in m.first))
            files = [f"tests/{f}" for f in order if (work / "tests" / f).exists()]
            try:
                hit, test = run_tests(work, files)
            finally:
                target.write_text(original)
            caught += hit
            verdict = f"caught by {test}" if hit else "SURVIVED"
            print(f"{m.name:38s} {time.perf_counter() - start:6.0f}s  {verdict}   ({m.what})", flush=True)
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)
    print(f"\n{caught} of {len(chosen)} mutations caught ({'tests of ' + args.tests_from if args.tests_from else 'current tests'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

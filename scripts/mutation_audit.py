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
    "test_rules.py", "test_agents.py", "test_mass_balance.py", "test_determinism.py", "test_claims_rules.py",
    "test_regimes.py", "test_policies.py", "test_claims_policies.py")
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


MUTATIONS = (
    # the five the issue lists
    Mutation("controlled_load_stopped_again", "sim/model/model.py",
             "        if courier.controlled:\n            return CLEARED\n", "",
             "a controlled-delivery load is stopped again at later posts", first=('test_claims_rules.py',)),
    Mutation("disrupted_organisation_keeps_supply", "sim/model/agents.py",
             "        if self.model.day < self.disrupted_until:\n            return                             # its people arrested: no supply, no shipments\n        self.stock_g += self.daily_supply_g\n",
             "        self.stock_g += self.daily_supply_g\n        if self.model.day < self.disrupted_until:\n            return\n",
             "a disrupted organisation keeps receiving its supply (and ships it afterwards)", first=('test_claims_rules.py',)),
    Mutation("sides_never_take_turns", "sim/model/agents.py",
             "sides = [sides[0] if self.draws.random() < 0.5 else sides[1]]",
             "sides = [sides[0]]",
             "single inspection: always the same side inspects", first=('test_claims_policies.py',)),
    Mutation("summary_written_first", "sim/outputs.py",
             "    (out / \"summary.json\").unlink(missing_ok=True)\n",
             "    (out / \"summary.json\").unlink(missing_ok=True)\n    _write_json_atomically(out / \"summary.json\", _summary_document(result))\n",
             "summary.json is written first instead of last", outputs=True, first=('test_claims_cli.py',)),
    Mutation("route_choice_ignores_cost", "sim/model/routing.py",
             "return np.exp(log_arrive) * self.market_price - self.cost_per_kg",
             "return np.exp(log_arrive) * self.market_price",
             "route choice ignores the trip cost", first=('test_claims_rules.py',)),
    # subtler ones, across the rules
    Mutation("targeting_ignored", "sim/model/inspection.py",
             "return min(1.0, share * targeting)", "return min(1.0, share)",
             "inspection: risk targeting by conveyance is ignored", first=('test_claims_rules.py',)),
    Mutation("bribe_size_ignored", "sim/model/inspection.py",
             "temptation = 1.0 - math.exp(-bribe_usd / bribe_scale_usd)", "temptation = 1.0",
             "bribery: any bribe tempts as much as the largest", first=('test_claims_rules.py',)),
    Mutation("bribes_not_in_costs", "sim/model/model.py",
             "            courier.organisation.costs_usd += bribe\n", "",
             "bribery: bribes paid are missing from traffickers' costs", first=('test_claims_rules.py',)),
    Mutation("news_ignored", "sim/model/model.py",
             "        if news > 0:\n", "        if news > 1:\n",
             "learning: other organisations never learn from the news of a seizure", first=('test_claims_rules.py',)),
    Mutation("delivery_teaches_danger", "sim/model/agents.py",
             "self.risk[route.nodes, CONVEYANCE_INDEX[route.conveyance]] *= 1.0 - rate",
             "self.risk[route.nodes, CONVEYANCE_INDEX[route.conveyance]] += rate * (1.0 - self.risk[route.nodes, CONVEYANCE_INDEX[route.conveyance]])",
             "learning: a safe delivery makes the route look riskier", first=('test_agents.py',)),
    Mutation("patrols_stay_put", "sim/model/model.py",
             "        self.patrols.shuffle_do(\"choose_position\")\n", "",
             "patrols: never move (all at the first node of their area)", first=('test_claims_rules.py',)),
    Mutation("green_zone_watchers_idle", "sim/model/agents.py",
             "        if self.surveillance:\n            sides = [*self.surveillance, *sides]\n", "",
             "green zone and UAVs: watchers are set up but never look at a load", first=('test_claims_policies.py',)),
    Mutation("uav_units_do_not_add_up", "sim/model/policies.py",
             "spot = 1.0 - (1.0 - uav.spot_prob_per_unit) ** units", "spot = uav.spot_prob_per_unit",
             "UAVs: several units in range spot no more than one", first=('test_policies.py',)),
    Mutation("dedicated_profile_not_applied", "sim/model/policies.py",
             "    if profile is not None:\n        update[\"profile\"] = profile\n", "",
             "dedicated checkpoints: handles change, specialised inspection does not", first=('test_policies.py',)),
    Mutation("false_couriers_stage_whole_load", "sim/model/policies.py",
             "self.staged_g[(node, agency)] += round(grams * share)", "self.staged_g[(node, agency)] += grams",
             "false couriers: the whole load is re-staged, not recycle_share of it", first=('test_claims_rules.py',)),
    Mutation("budget_not_reaching_posts", "sim/model/policies.py",
             "        self.funding_factor = funding_factor(world)\n",
             "        self.funding_factor = world.inspection.funding_factor\n",
             "budgets: budget policies never reach the posts", first=('test_claims_policies.py',)),
    Mutation("customs_union_is_single_inspection", "sim/model/inspection.py",
             "factor = regime.cargo_inspection_factor if spec.cargo else regime.person_inspection_factor",
             "factor = regime.person_inspection_factor",
             "regime: the customs union opens cargo as often as it checks people", first=('test_claims_policies.py',)),
    Mutation("posts_open_cargo_like_people", "sim/model/model.py",
             "            return inspection.regime_factor(self.regime, spec)\n",
             "            return self.regime.person_inspection_factor\n",
             "regime: at the Kazakh-Russian posts cargo is opened as often as people are checked",
             first=("test_claims_policies.py",)),
    Mutation("disruption_keeps_stock", "sim/model/policies.py",
             "        org.stock_g = 0\n", "",
             "controlled deliveries: an arrested organisation keeps its stock", first=('test_mass_balance.py',)),
    Mutation("kz_seizures_count_every_country", "sim/model/outcomes.py",
             "\"kg_seized_kz\": float(seized.loc[country == \"KZ\", \"kg\"].sum()),",
             "\"kg_seized_kz\": float(seized[\"kg\"].sum()),",
             "outputs: seizures in Kazakhstan count every country's", outputs=True, first=('test_claims_rules.py',)),
    Mutation("in_transit_reporter_off", "sim/model/model.py",
             "\"kg_in_transit\": lambda m: _kg(m.ledger.in_transit_g),",
             "\"kg_in_transit\": lambda m: _kg(m.ledger.entered_g - m.ledger.seized_g),",
             "outputs: the daily series' in-transit figure forgets deliveries", outputs=True, first=('test_mass_balance.py',)),
    Mutation("patrol_find_does_not_stop_load", "sim/model/model.py",
             "                    if result == SEIZED:\n                        return SEIZED\n", "",
             "patrols: a load seized by a patrol travels on", first=('test_mass_balance.py',)),
    Mutation("anti_corruption_unit_no_deterrence", "sim/model/agents.py",
             "        deterrence = self.model.deterrence\n",
             "        deterrence = self.model.world.corruption.deterrence\n",
             "anti-corruption unit: officers' fear of being caught does not rise", first=('test_claims_policies.py',)),
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

"""The live model page (Mesa's ``SolaraViz``): free play with the model, day by day.

``python -m sim live [--port --host]`` serves it. As on any Mesa model's page: sliders
and selectors for the main parameters, a seed, Reset / Play / Step, and components
redrawn as the model runs: the route map (kilos moved over each link and seized at each
node so far) and charts of the daily reporters (:data:`sim.model.model.DAILY_REPORTERS`).

The sliders' defaults are the composed baseline's values and their ranges the plausible
ranges of ``scenarios/provenance.yaml``: nothing here is a number of its own.
"""

from __future__ import annotations

import argparse
import sys

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from sim.config import config_names, load_params
from sim.model import NorthernRouteModel
from sim.provenance import lookup

#: Slider name -> (dotted key of the config, label, step). Defaults and ranges come from configs.
SLIDERS = {
    "supply_multiplier": ("world.flow.supply_multiplier", "Heroin supply (x the 2009 flow)", 0.05),
    "deterrence": ("world.corruption.deterrence", "Officers' deterrence", 0.05),
    "loss_tolerance": ("world.learning.loss_tolerance", "Traffickers' loss tolerance", 0.01),
    "patrols_south": ("world.patrols.south.count", "Mobile patrols in the south", 1),
}
NO_POLICY = "none"
MAP_EVERY_DAYS = 7            # the map is redrawn once a simulated week (a map takes ~1 s to draw)


class LiveModel(NorthernRouteModel):
    """The Northern Route model with the live page's controls as keyword parameters.

    Mesa's ``SolaraViz`` re-creates the model with the sliders' values by name, so each
    control is a keyword here; they are set on the composed scenario as dotted keys.
    """

    def __init__(self, *, regime: str = "two_sided", policy: str = NO_POLICY, supply_multiplier: float | None = None,
                 deterrence: float | None = None, loss_tolerance: float | None = None,
                 patrols_south: int | None = None, horizon_days: int = 365, rng: int | None = None):
        values = {"deterrence": deterrence, "loss_tolerance": loss_tolerance, "patrols_south": patrols_south}
        overrides = {SLIDERS[name][0]: value for name, value in values.items() if value is not None}
        super().__init__(regime=regime, policies=[] if policy == NO_POLICY else [policy],
                         supply_multiplier=supply_multiplier, horizon_days=horizon_days, overrides=overrides,
                         rng=rng, keep_events=False, keep_shipments=False)


def model_params() -> dict:
    """The page's controls: sliders from the baseline's values and provenance ranges, selectors from configs."""
    base = load_params()
    controls: dict = {
        "regime": {"type": "Select", "value": base.regime.name, "values": config_names("regime"),
                   "label": "Kazakh-Russian border regime"},
        "policy": {"type": "Select", "value": NO_POLICY, "values": [NO_POLICY, *config_names("policy")],
                   "label": "Policy added to the 2009 baseline"},
    }
    for name, (key, label, step) in SLIDERS.items():
        value = _value(base, key)
        low, high = (lookup(key).range if lookup(key) and lookup(key).range else (0.0, 2.0 * value))
        kind = "SliderInt" if isinstance(value, int) else "SliderFloat"
        controls[name] = {"type": kind, "value": value, "min": type(value)(low), "max": type(value)(high),
                          "step": step, "label": label}
    controls["horizon_days"] = base.horizon_days
    return controls


def _value(params, key: str):
    node = params.model_dump()
    for part in key.split("."):
        node = node[part]
    return node


@solara.component
def RouteMap(model: NorthernRouteModel):
    """The route map of the run so far, redrawn once a simulated week."""
    update_counter.get()
    week = model.day // MAP_EVERY_DAYS
    fig = solara.use_memo(lambda: draw_live_map(model), dependencies=[model, week])
    solara.FigureMatplotlib(fig, format="png", dependencies=[model, week])


def draw_live_map(model: NorthernRouteModel) -> Figure:
    """Kilos moved over each link and seized at each node since day 0 (model output)."""
    import io

    from sim.maps import draw_route_map
    from sim.model.outcomes import seized_kg_by_node

    nodes, edges = model.network.frames()
    seized_by_node = seized_kg_by_node(model)
    title = f"Day {model.day}: flows and seizures so far (model output, seed {model.seed})"
    return draw_route_map(nodes, edges, model.ledger.edge_flows_kg(), seized_by_node, io.BytesIO(), title=title)


def make_page(model: NorthernRouteModel | None = None):
    """The SolaraViz page of a model (a fresh baseline model by default)."""
    components = [
        (RouteMap, 0),
        make_plot_component({"kg_entered": "tab:blue", "kg_delivered": "tab:green", "kg_seized": "tab:red"}),
        make_plot_component(["seizures", "bribes"]),
        make_plot_component("couriers_on_road"),
    ]
    return SolaraViz(model if model is not None else LiveModel(rng=0), components=components,
                     model_params=model_params(), name="Northern Route: live model", play_interval=50)


page = make_page()


def main_live(argv: list[str]) -> int:
    """``python -m sim live [--port --host]``: serve the live page and print its address."""
    from sim.params import ConfigError
    from sim.viz.serve import add_server_options, check_port, serve

    parser = argparse.ArgumentParser(prog="python -m sim live",
                                     description="The live model page in the browser (Mesa SolaraViz).")
    add_server_options(parser, default_port=8766)
    args = parser.parse_args(argv)
    try:
        check_port(args.port)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    return serve("sim.viz.live:page", port=args.port, host=args.host, title="Live model page")

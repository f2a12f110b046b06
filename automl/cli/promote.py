"""``automl promote EXPERIMENT --name NAME``: make an experiment the champion of a registered name.

The old champion keeps its files and its id; it is marked superseded, and everything that goes by the name
(``automl serve NAME``, ``automl predict NAME``) uses the new one from its next start.
"""

from __future__ import annotations

import argparse

from automl.cli._common import EXPERIMENT_HELP, actor, add_workspace, locate_experiment
from automl.experiment import Registry, Workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("promote", help="make an experiment the champion of a registered name")
    p.add_argument("experiment", help=EXPERIMENT_HELP)
    p.add_argument("--name", required=True, help="the registered name whose champion it becomes")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    exp = locate_experiment(args)
    registry = Registry(Workspace(exp.path.parent))
    name = args.name.strip()
    registry.promote(name, exp, by=actor())
    event = registry.history(name)[-1]
    figures = event["figures"]
    scores = ""
    if figures.get("metric") and figures.get("challenger") is not None:
        old = figures.get("champion")
        scores = (f" Held-out {figures['metric']}: {figures['challenger']:.4f}"
                  + (f" (was {old:.4f}; each on its own held-out rows unless retrained from the champion)."
                     if old is not None else "."))
    print(f"'{name}' is now experiment {exp.id} ({exp.name}); it replaces {event['replaces']}, which is kept."
          + scores)
    return 0

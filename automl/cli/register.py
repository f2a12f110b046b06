"""``automl register EXPERIMENT NAME``: give a completed experiment a registry name, as its first champion.

From then on ``automl serve NAME`` and ``automl predict NAME …`` use the champion of that name, and
``automl promote OTHER --name NAME`` replaces it without clients changing anything.
"""

from __future__ import annotations

import argparse

from automl.cli._common import EXPERIMENT_HELP, actor, add_workspace, locate_experiment
from automl.experiment import Registry, Workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("register", help="register an experiment's model under a name (its first champion)")
    p.add_argument("experiment", help=EXPERIMENT_HELP)
    p.add_argument("name", help="registry name: letters, digits, '_', '.', '-' (e.g. churn)")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    exp = locate_experiment(args)
    Registry(Workspace(exp.path.parent)).register(args.name, exp, by=actor())
    print(f"'{args.name.strip()}' is now experiment {exp.id} ({exp.name}): `automl serve {args.name.strip()}` "
          "serves it.")
    return 0

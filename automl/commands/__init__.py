"""CLI sub-commands: each module here defines ``register(subparsers)``; cli.py finds them all."""

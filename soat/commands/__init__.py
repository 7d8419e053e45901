"""One module per `soat` subcommand (see soat.cli)."""

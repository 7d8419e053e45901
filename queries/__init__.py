"""SQL lives here: one check per .sql file with its .toml metadata beside it (queries/checks/),
the preludes the runner executes first (queries/prelude/), and derived tables
computed after the checks (queries/derived/)."""

from pathlib import Path

ROOT = Path(__file__).parent

"""`soat sample`: a synthetic province with known defects and its ground truth.

    from soat.sample import generate
    summary = generate("data/sample/province", schools=40, seed=1)

writes the province export (CSV and .xlsx files with real-world quirks) into the folder
and, next to it, `ground_truth.csv` (every finding the catalogue must produce) and
`expected_late.csv` (the rows of the `late` export). See docs/sample.md.
"""

from soat.sample.generate import Summary, build, generate

__all__ = ["Summary", "build", "generate"]

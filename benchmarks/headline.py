"""Print the headline table of a run: per-model means side by side and the worst objects.

    python benchmarks/headline.py results/summary.csv
"""

import argparse

from implicit3d.summary import headline, read_summary

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("summary", nargs="?", default="results/summary.csv")
parser.add_argument("--worst", type=int, default=5)
args = parser.parse_args()
print(headline(read_summary(args.summary), args.worst))

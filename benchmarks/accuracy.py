"""Accuracy report: the full pipeline on seeded synthetic renders (issue 5).

Usage (needs ``pip install -e '.[synth]'``)::

    python benchmarks/accuracy.py                 # 60 clips, seed 0 (cached renders)
    python benchmarks/accuracy.py --count 6       # the CI-sized subset

Writes ``benchmarks/results/accuracy.md`` (+ ``.json``); same as ``itbcoach eval``.
"""

from __future__ import annotations

import sys

from itbcoach.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["eval", *sys.argv[1:]]))

"""The benchmarks' shared harness: meshes, baseline revisions, the pipeline's stages, result pages.

A benchmark is a short script in benchmarks/ with a `main(argv=None)`:

    from harness import Bench, parser

    def main(argv=None):
        args = parser(__doc__, objects="0,16").parse_args(argv)
        with Bench(__file__, __doc__, args, argv) as b:
            rows = [b.train(b.prepare(name, mesh), b.variant("default", "hashgrid")) for name, mesh in b.meshes().items()]
            b.page("Title", [("", pandas.DataFrame(rows))])

tests/test_benchmarks_smoke.py runs every benchmark with --smoke.
"""

from .bench import Bench, parser
from .meshes import REFERENCE_MESHES, REPO, SAMPLE_MESHES, SUBSET, find_meshes, natural
from .revisions import checkout, git, tree_env, working_copy
from .stages import Prepared, Variant, prepare, renamed, run_in_tree, train_variant, variant

__all__ = [
    "REFERENCE_MESHES",
    "REPO",
    "SAMPLE_MESHES",
    "SUBSET",
    "Bench",
    "Prepared",
    "Variant",
    "checkout",
    "find_meshes",
    "git",
    "natural",
    "parser",
    "prepare",
    "renamed",
    "run_in_tree",
    "train_variant",
    "tree_env",
    "variant",
    "working_copy",
]

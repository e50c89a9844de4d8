from implicit3d import viewer_assets
from implicit3d.workflow import discover_meshes, model_spec, model_tag, sample_tag, scale_with_attempt, train_gpus

MESHES = discover_meshes(config["meshes"], config.get("ignore", []))
OBJECTS = list(MESHES)
MODELS = config["models"]
SAMPLE_TAG = sample_tag(config)
MODEL_TAGS = {m: model_tag(config, m) for m in MODELS}


wildcard_constraints:
    object="[^/]+",
    model="[A-Za-z0-9_]+",
    tag="[0-9a-f]{10}",


def mesh_path(wildcards):
    return MESHES[wildcards.object]


def samples_path(wildcards):
    return f"results/samples/{SAMPLE_TAG}/{wildcards.object}.parquet"


def eval_paths(wildcards):
    return [f"results/eval/{m}/{MODEL_TAGS[m]}/{o}.json" for m in MODELS for o in OBJECTS]


def reconstruction_paths(wildcards):
    return [f"results/meshes/{m}/{MODEL_TAGS[m]}/{o}.json" for m in MODELS for o in OBJECTS]


def report_targets():
    """Per-object figures, collection figures, the summary page and the viewer of the report."""
    paths = [
        f"results/figures/{m}/{MODEL_TAGS[m]}/{o}_{kind}.png"
        for m in MODELS
        for o in OBJECTS
        for kind in ("slices", "render", "trace")
    ]
    paths.append("results/figures/f1_near_vs_volume.png")
    if len(MODELS) > 1:  # size vs F1 compares architectures: nothing to compare with one
        paths.append("results/figures/size_vs_f1.png")
    return paths + ["results/summary.html", "results/viewer.html"]


def train_gpu(wildcards):
    # Declared GPUs let `--resources gpu=N` cap concurrent training locally. `auto` counts as a
    # GPU job only where this host has one; on a cluster profiles/slurm requests it instead.
    return train_gpus(config["device"])

import sys

from implicit3d import viewer_assets
from implicit3d.collection import ID_PATTERN, spread
from implicit3d.collection.table import collection_line
from implicit3d.shards import shard_index, shard_size, split_shards
from implicit3d.config import model_spec
from implicit3d.workflow import load_collection, model_tag, sample_tag, scale_with_attempt, train_gpus

COLLECTION = load_collection(config)
ALL_MESHES = COLLECTION.paths()
if shard_index() is None:
    print(collection_line(COLLECTION), file=sys.stderr)
SHARDS = split_shards(list(ALL_MESHES), shard_size(config["shards"]["size"], len(ALL_MESHES)))
SHARD_INDEX = shard_index()  # set only inside a shard job's run (shard.smk)
if SHARD_INDEX is not None:
    MESHES = {o: ALL_MESHES[o] for o in SHARDS[SHARD_INDEX]}
else:
    MESHES = ALL_MESHES
OBJECTS = list(MESHES)
# This run hands its objects to shard jobs and plans only them and the collection steps.
SHARDED = bool(SHARDS) and SHARD_INDEX is None
MODELS = config["models"]
SAMPLE_TAG = sample_tag(config)
MODEL_TAGS = {m: model_tag(config, m) for m in MODELS}


wildcard_constraints:
    object=ID_PATTERN,
    model="[A-Za-z0-9_]+",
    tag="[0-9a-f]{10}",


def mesh_path(wildcards):
    return MESHES[wildcards.object]


def samples_path(wildcards):
    return f"results/samples/{SAMPLE_TAG}/{wildcards.object}.parquet"


def per_model(pattern, objects=None):
    """`pattern` ({model}, {tag}, {object}) for every model and object (`OBJECTS` unless given), models outer."""
    objects = OBJECTS if objects is None else objects
    return [pattern.format(model=m, tag=MODEL_TAGS[m], object=o) for m in MODELS for o in objects]


def eval_paths(wildcards, objects=None):
    return per_model("results/eval/{model}/{tag}/{object}.json", objects)


def reconstruction_paths(wildcards, objects=None):
    return per_model("results/meshes/{model}/{tag}/{object}.json", objects)


def info_paths():
    return per_model("results/models/{model}/{tag}/{object}.json")


def figure_paths():
    stems = per_model("results/figures/{model}/{tag}/{object}")
    return [f"{stem}_{kind}.png" for stem in stems for kind in ("slices", "render", "trace")]


def shard_markers():
    return [f"results/shards/{i}.json" for i in range(len(SHARDS))]


def per_object(paths):
    """What a collection step waits for: the per-object files, or with shards the shard jobs that make them
    (the per-object rules are then not planned in this run; the step reads the files by path)."""
    return shard_markers() if SHARDED else paths


def object_targets():
    """A shard job's targets: everything per object, for its objects."""
    return eval_paths(None) + reconstruction_paths(None) + figure_paths()


def report_targets():
    """Per-object figures, collection figures, the summary page and the viewer of the report."""
    paths = [] if SHARDED else figure_paths()  # with shards, the shard jobs draw them
    paths.append("results/figures/f1_near_vs_volume.png")
    if len(MODELS) > 1:  # size vs F1 compares architectures: nothing to compare with one
        paths.append("results/figures/size_vs_f1.png")
    return paths + ["results/summary.html", "results/viewer.html"]


def train_gpu(wildcards):
    # Declared GPUs let `--resources gpu=N` cap concurrent training locally. `auto` counts as a
    # GPU job only where this host has one; on a cluster profiles/slurm requests it instead.
    return train_gpus(config["device"])


# One page cannot hold a large collection: it shows 200 objects, taken in turn from each category.
VIEWER_OBJECTS = spread(COLLECTION, 200) if SHARD_INDEX is None else OBJECTS[:200]


def figure_group(wildcards):
    """The report's group of an object's figures: its model, and its category where it has one."""
    label = category_labels([wildcards.object]).get(wildcards.object)
    return f"{wildcards.model} / {label}" if label else wildcards.model


ENTRIES = {e.object: e for e in COLLECTION.entries}


def category_labels(objects):
    """Object -> its category as the viewer groups it ('02691156 (airplane)'); empty without categories."""
    labels = {
        o: ENTRIES[o].category + (f" ({ENTRIES[o].category_name})" if ENTRIES[o].category_name else "") for o in objects
    }
    return labels if any(labels.values()) else {}


def viewer_files():
    """The per-object files the viewer reads, by kind (lists in the order of objects, models x objects)."""
    return {
        "truth": [f"results/normalized/{o}.ply" for o in VIEWER_OBJECTS],
        "samples": [f"results/samples/{SAMPLE_TAG}/{o}.parquet" for o in VIEWER_OBJECTS],
        "model_files": per_model("results/models/{model}/{tag}/{object}.pt", VIEWER_OBJECTS),
        "evaluations": eval_paths(None, VIEWER_OBJECTS),
        "meshes": per_model("results/meshes/{model}/{tag}/{object}.ply", VIEWER_OBJECTS),
        "mesh_infos": reconstruction_paths(None, VIEWER_OBJECTS),
    }

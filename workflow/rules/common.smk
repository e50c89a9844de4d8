import sys
from pathlib import Path

from implicit3d import viewer_assets
from implicit3d.collection import ID_PATTERN, spread
from implicit3d.collection.table import collection_line
from implicit3d.shards import shard_index, shard_size, split_shards
from implicit3d.chain import ObjectFiles, figure_params, stage_fingerprint
from implicit3d.config import model_spec
from implicit3d.products import Products
from implicit3d.summary import read_worst
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
# An object's stages in one job (the `object` job of chain.smk) in a shard job's run always, else as configured.
CHAIN = SHARD_INDEX is not None or config["object_jobs"] == "chain"
MODELS = config["models"]
SAMPLE_TAG = sample_tag(config)
MODEL_TAGS = {m: model_tag(config, m) for m in MODELS}
# The per-object paths as rule patterns, from the chain's layout (wildcards {object}, {model}, {tag}).
PATTERNS = ObjectFiles(Path("results"), "{object}", "{tag}", {"{model}": "{tag}"})
NORMALIZED = str(PATTERNS.mesh)  # the normalized mesh, xz-compressed PLY
RECONSTRUCTION = str(PATTERNS.reconstruction("{model}"))  # the model's marching-cubes mesh, likewise


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
    return per_model(str(PATTERNS.evaluation("{model}")), objects)


def reconstruction_paths(wildcards, objects=None):
    """The reconstructions' records (none without products.reconstruction)."""
    return per_model(str(PATTERNS.reconstruction("{model}", ".json")), objects) if PRODUCTS.reconstruction else []


def info_paths():
    return per_model(str(PATTERNS.model_file("{model}", ".json")))


PRODUCTS = Products.from_config(config)
# Each figure kind's caption and label in the report.
FIGURE_REPORT = {
    "slices": ("slices.rst", "SDF slices"),
    "render": ("render.rst", "reconstruction"),
    "trace": ("trace.rst", "sphere tracing"),
}


def figure_paths(objects=None):
    """The per-object figures every object gets (none when only the worst objects get them)."""
    stems = per_model("results/figures/{model}/{tag}/{object}", objects)
    return [f"{stem}_{kind}.png" for stem in stems for kind in PRODUCTS.per_object_figures]


def chain_outputs():
    """The object rule's outputs: every per-object file the per-stage rules make for it. Flagged
    `update`: Snakemake leaves the files of a rerun object in place, and the chain redoes only the
    stages whose files are missing or stale (a failed job restores a file it had replaced)."""
    files = ObjectFiles(Path("results"), "{object}", SAMPLE_TAG, MODEL_TAGS)  # the chain's paths, as patterns
    out = {"mesh": files.mesh, "transform": files.transform, "samples": files.samples}
    for m in MODELS:
        out.update(
            {
                f"{m}__model": files.model_file(m),
                f"{m}__info": files.model_file(m, ".json"),
                f"{m}__eval": files.evaluation(m),
            }
        )
        if PRODUCTS.reconstruction:
            out.update({f"{m}__mesh": files.reconstruction(m), f"{m}__recon": files.reconstruction(m, ".json")})
    out = {name: update(str(path)) for name, path in out.items()}
    for m in MODELS:
        for kind in PRODUCTS.per_object_figures:
            out[f"{m}__{kind}"] = figure_report(update(str(files.figure(m, kind))), kind, m)
    return out


def chain_fingerprints(wildcards):
    """Each stage's fingerprint for one object (implicit3d.chain): what the object rule reruns on."""
    stages = [("normalize", None), ("sample", None)]
    stages += [(s, m) for m in MODELS for s in ("train", "evaluate", "reconstruct", "figures")]
    return {f"{s}/{m or ''}": stage_fingerprint(s, config, wildcards.object, m) for s, m in stages}


def figure_report(path, kind, model=None):
    """A figure in the report; `model` where the path names it rather than a {model} wildcard."""
    return report(
        path,
        category="Objects",
        subcategory=figure_group if model is None else (lambda wildcards: figure_group(wildcards, model)),
        labels={"object": "{object}", "figure": FIGURE_REPORT[kind][1]},
        caption=f"../report/{FIGURE_REPORT[kind][0]}",
    )


def figure_outputs():
    """The figures rule's outputs: the kinds `products.figures` names, each in the report."""
    return {
        kind: figure_report(f"results/figures/{{model}}/{{tag}}/{{object}}_{kind}.png", kind)
        for kind in PRODUCTS.figures
    }


def figure_inputs(wildcards):
    """The figures rule's inputs: the reconstruction too where the figures draw it."""
    model = wildcards.model
    files = ObjectFiles(Path("results"), wildcards.object, SAMPLE_TAG, {model: wildcards.tag})
    inputs = {"model": files.model_file(model), "truth": files.mesh, "evaluation": files.evaluation(model)}
    if PRODUCTS.reconstruction:
        inputs.update(mesh=files.reconstruction(model), metrics=files.reconstruction(model, ".json"))
    return {name: str(path) for name, path in inputs.items()}


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
    if PRODUCTS.figures_for is not None and PRODUCTS.figures:
        paths.append("results/figures/worst.csv")  # then worst_figure_paths, once the summary says which
    paths.append("results/figures/f1_near_vs_volume.png")
    if len(MODELS) > 1:  # size vs F1 compares architectures: nothing to compare with one
        paths.append("results/figures/size_vs_f1.png")
    return paths + ["results/summary.html"] + (["results/viewer.html"] if PRODUCTS.viewer else [])


def all_targets(wildcards):
    """What a run makes: a shard job's run, its objects' files; the top-level run, the collection's
    (and, with products.figures_for, the worst objects' figures once the summary names them)."""
    if SHARD_INDEX is not None:
        return object_targets()
    paths = ["results/summary.csv", "results/metrics.json", *report_targets()]
    if PRODUCTS.figures_for is not None and PRODUCTS.figures:
        paths += worst_figure_paths(wildcards)
    return paths


def worst_figure_paths(wildcards):
    """The figures of each model's worst objects, once the `worst` checkpoint has chosen them."""
    chosen = read_worst(checkpoints.worst.get().output[0])
    stems = [f"results/figures/{m}/{MODEL_TAGS[m]}/{o}" for m, o in chosen if m in MODEL_TAGS]
    return [f"{stem}_{kind}.png" for stem in stems for kind in PRODUCTS.figures]


def train_gpu(wildcards):
    # Declared GPUs let `--resources gpu=N` cap concurrent training locally. `auto` counts as a
    # GPU job only where this host has one; on a cluster profiles/slurm requests it instead.
    return train_gpus(config["device"])


# One page cannot hold a large collection: it shows 200 objects, taken in turn from each category.
VIEWER_OBJECTS = spread(COLLECTION, 200) if SHARD_INDEX is None else OBJECTS[:200]


def figure_group(wildcards, model=None):
    """The report's group of an object's figures: its model, and its category where it has one."""
    model = model or wildcards.model
    label = category_labels([wildcards.object]).get(wildcards.object)
    return f"{model} / {label}" if label else model


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
        "truth": [NORMALIZED.format(object=o) for o in VIEWER_OBJECTS],
        "samples": [f"results/samples/{SAMPLE_TAG}/{o}.parquet" for o in VIEWER_OBJECTS],
        "model_files": per_model("results/models/{model}/{tag}/{object}.pt", VIEWER_OBJECTS),
        "evaluations": eval_paths(None, VIEWER_OBJECTS),
        "meshes": per_model(RECONSTRUCTION, VIEWER_OBJECTS),
        "mesh_infos": reconstruction_paths(None, VIEWER_OBJECTS),
    }

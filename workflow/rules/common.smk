from implicit3d.workflow import discover_meshes, model_spec, model_tag, sample_tag

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


def train_gpu(wildcards):
    return 1 if config["device"] == "cuda" else 0

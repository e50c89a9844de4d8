"""The lock files and the conda environments, checked statically (conda channels are not reachable
from the CI machines): what pyproject.toml asks for is locked, what the lock says is installed, and
every conda environment provides what the workflow's scripts import, at the locked versions."""

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from implicit3d.lockfile import (
    LOCKED_EXTRAS,
    TORCH_INDEX,
    conda_env_text,
    normalize,
    pyproject_requirements,
    read_lock,
    runtime_closure,
    unmet,
)

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements" / "lock.txt"
LOCK_BACKENDS = REPO / "requirements" / "lock-backends.txt"
LOCK_CUDA = REPO / "requirements" / "lock-cuda.txt"
# What torch's CUDA build pulls in on top of the CPU build's dependencies.
CUDA_PACKAGES = re.compile(r"nvidia-.*|triton|cuda-.*")
RULE_ENV = REPO / "workflow" / "envs" / "implicit3d.yaml"
# Imports that a rule's environment does not need to provide: Snakemake puts its own package on the
# path of every script job; the project is installed by the post-deploy script. The optional
# ground-truth backends (what only requirements/lock-backends.txt has) are exempt too: they are
# imported only when sampling.method names them.
PROVIDED_ELSEWHERE = {"snakemake", "implicit3d"}


def test_lock_has_every_requirement_of_pyproject():
    problems = unmet(pyproject_requirements(REPO / "pyproject.toml", LOCKED_EXTRAS), read_lock(LOCK))
    assert not problems, "requirements/lock.txt is stale, run `make lock`:\n" + "\n".join(problems)
    backends = pyproject_requirements(REPO / "pyproject.toml", (*LOCKED_EXTRAS, "backends"))
    problems = unmet(backends, read_lock(LOCK_BACKENDS))
    assert not problems, "requirements/lock-backends.txt is stale, run `make lock`:\n" + "\n".join(problems)


def test_backends_lock_keeps_the_main_lock_versions():
    main, backends = read_lock(LOCK), read_lock(LOCK_BACKENDS)
    differ = {n: (p.version, backends[n].version) for n, p in main.items() if n in backends and backends[n].version != p.version}
    assert not differ and set(main) <= set(backends), differ or set(main) - set(backends)


def test_torch_is_the_cpu_build_everywhere():
    for lock in (LOCK, LOCK_BACKENDS):
        pins = read_lock(lock)
        assert pins["torch"].version == "2.13.0+cpu", lock
        assert not any(name.startswith("nvidia-") for name in pins), f"{lock} pulls CUDA libraries"
    assert "torch==2.13.0+cpu" in RULE_ENV.read_text()


def test_cuda_lock_is_the_cpu_lock_with_the_cuda_build_of_the_same_torch():
    """`make setup TORCH=cuda`: the same versions as requirements/lock.txt, torch's CUDA build of the
    same release, and nothing else but the packages that build pulls (checked without resolving)."""
    cpu, cuda = read_lock(LOCK), read_lock(LOCK_CUDA)
    assert cuda["torch"].version == cpu["torch"].version.split("+")[0], "the CUDA lock pins another torch release"
    assert "+" not in cuda["torch"].version  # PyPI's Linux build of torch is the CUDA one; +cpu is not
    differ = {n: (p.version, cuda[n].version) for n, p in cpu.items() if n != "torch" and n in cuda and cuda[n].version != p.version}
    assert not differ, f"the CUDA lock moved pins of the CPU lock, run `make lock`: {differ}"
    assert set(cpu) <= set(cuda), f"missing from the CUDA lock: {set(cpu) - set(cuda)}"
    extra = sorted(n for n in set(cuda) - set(cpu) if not CUDA_PACKAGES.fullmatch(n))
    assert not extra, f"the CUDA lock has packages the CPU lock lacks beyond torch's CUDA libraries: {extra}"
    assert any(n.startswith("nvidia-") for n in cuda), "no CUDA libraries: not torch's CUDA build"
    assert not unmet(pyproject_requirements(REPO / "pyproject.toml", LOCKED_EXTRAS), cuda)
    constraint = (REPO / "requirements" / "constraints-cuda.txt").read_text()
    assert f"torch=={cuda['torch'].version}" in constraint and f"torch=={cpu['torch'].version}" in (REPO / "requirements" / "constraints.txt").read_text()


def test_cuda_route_installs_the_cuda_lock():
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert 'install requirements/lock-cuda.txt' in setup and "TORCH=$(TORCH)" in (REPO / "Makefile").read_text()
    env = yaml.safe_load((REPO / "environment-cuda.yml").read_text())
    assert _conda_packages(env) == {"python": "3.11", "pip": ""}
    pip = [line.split("#")[0].strip() for line in _pip_section(env)]
    assert "-r requirements/lock-cuda.txt" in pip and "-e ." in pip


def test_unmet_names_a_dependency_that_the_lock_lacks(tmp_path):
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    text = (REPO / "pyproject.toml").read_text().replace('"numpy>=1.24",', '"numpy>=1.24",\n    "einops>=0.8",', 1)
    assert text != (REPO / "pyproject.toml").read_text() and "einops" not in str(pyproject)
    (tmp_path / "pyproject.toml").write_text(text.replace('"scipy>=1.10"', '"scipy>=99"'))
    problems = unmet(pyproject_requirements(tmp_path / "pyproject.toml", LOCKED_EXTRAS), read_lock(LOCK))
    assert problems == [
        "einops: in pyproject.toml, missing from the lock",
        f"scipy: the lock pins {read_lock(LOCK)['scipy'].version}, pyproject.toml asks for >=99",
    ]


def test_installed_versions_are_the_locked_ones():
    """`make setup` installs exactly the lock: every pin at its version in the running interpreter."""
    wrong = {}
    for name, pin in read_lock(LOCK).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pin.version:
            wrong[name] = (pin.version, installed)
    assert not wrong, f"(locked, installed) differ; run `make setup`: {wrong}"


def test_runtime_closure_follows_the_via_annotations(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "a==1.0\n    # via implicit3d (pyproject.toml)\n"
        "b==2.0\n    # via\n    #   a\n    #   c\n"
        "c==3.0\n    # via implicit3d (pyproject.toml)\n"
        "d==4.0\n    # via b\n"
        "tool==5.0\n    # via implicit3d (pyproject.toml)\n"
    )
    got = runtime_closure(read_lock(lock), [Requirement("a>=1")])
    assert [(p.name, p.version) for p in got] == [("a", "1.0"), ("b", "2.0"), ("d", "4.0")]
    lock.write_text("a==1.0\nnot a pin\n")
    with pytest.raises(ValueError, match=r"lock.txt:2: not a `name==version` pin"):
        read_lock(lock)


def test_rule_environment_is_generated_from_the_lock():
    assert RULE_ENV.read_text() == conda_env_text(LOCK, REPO / "pyproject.toml"), "run `make lock`"


def _pip_section(env: dict) -> list[str]:
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert len(sections) == 1
    return sections[0]


def _conda_packages(env: dict) -> dict[str, str]:
    return dict(re.fullmatch(r"([\w.-]+)\s*=*\s*(.*)", d).groups() for d in env["dependencies"] if isinstance(d, str))


@pytest.mark.parametrize("path", ["environment.yml", "workflow/envs/implicit3d.yaml"])
def test_conda_environment_parses_with_channels_and_python(path):
    env = yaml.safe_load((REPO / path).read_text())
    assert env["channels"][0] == "conda-forge" and "defaults" not in env["channels"]
    conda = _conda_packages(env)
    assert set(conda) == {"python", "pip"}, "conda provides Python and pip; pip installs the lock"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert conda["python"] == "3.11" and requires.startswith(">=3.11")
    assert f"--extra-index-url {TORCH_INDEX}" in [line.split("#")[0].strip() for line in _pip_section(env)]


def test_user_environment_installs_the_lock_and_the_project():
    pip = [line.split("#")[0].strip() for line in _pip_section(yaml.safe_load((REPO / "environment.yml").read_text()))]
    assert "-r requirements/lock.txt" in pip and "-e ." in pip
    assert (REPO / "requirements" / "lock.txt").is_file()


def test_every_rule_uses_the_rule_environment_with_its_post_deploy_script():
    envs = {}
    for rules in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for match in re.finditer(r"^\s+conda:\s*\n\s+\"([^\"]+)\"", rules.read_text(), re.M):
            envs[rules.name] = (rules.parent / match[1]).resolve()
    assert envs and set(envs.values()) == {RULE_ENV}, envs
    deploy = RULE_ENV.with_name("implicit3d.post-deploy.sh").read_text()
    assert "pip install --no-deps -e ." in deploy


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_rule_environment_provides_every_import_of_the_scripts():
    """What workflow/scripts/*.py import, and what the package they call imports, is pinned in the rule env."""
    files = sorted((REPO / "workflow" / "scripts").glob("*.py")) + sorted((REPO / "src" / "implicit3d").rglob("*.py"))
    modules = set().union(*(_imports(f) for f in files)) - set(sys.stdlib_module_names) - PROVIDED_ELSEWHERE
    pinned = {}
    for line in _pip_section(yaml.safe_load(RULE_ENV.read_text())):
        if "==" in line:
            name, version = line.split("==")
            pinned[normalize(name)] = version
    distributions = metadata.packages_distributions()
    locked = read_lock(LOCK)
    optional = set(read_lock(LOCK_BACKENDS)) - set(locked)
    missing = []
    for module in sorted(modules):
        dists = {normalize(d) for d in distributions.get(module, [])}
        if not dists & set(pinned) and not (dists and dists <= optional):
            missing.append(f"{module} (from {sorted(dists) or 'no installed distribution'})")
    assert not missing, f"imported by the scripts or the package, not in {RULE_ENV.name}: {missing}"
    assert all(locked[n].version == v for n, v in pinned.items())

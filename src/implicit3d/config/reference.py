"""The configuration reference: config/README.md (regenerated with `implicit3d config --markdown >
config/README.md`) and the `implicit3d config` listing of a run's values."""

from __future__ import annotations

import copy

import yaml

from .schema import MISSING, fill_defaults, resolve_ref

PLACEHOLDERS = {"architectures": "<name>", "overrides": "<object>", "overrides.<object>": "<model>"}


def rows(schema: dict) -> list[dict]:
    """One row per documented key: path, resolved schema, default (MISSING where none), note.
    A definition used again (e.g. sampling.val) points to its first use instead of repeating."""
    out: list[dict] = []

    def walk(node: dict, path: str, inherited, seen: dict) -> None:
        node = resolve_ref(node, schema)
        for key, raw in node.get("properties", {}).items():
            sub, p = resolve_ref(raw, schema), f"{path}{key}"
            default = sub.get("default", inherited.get(key, MISSING) if isinstance(inherited, dict) else MISSING)
            row = {"path": p, "schema": sub, "default": default, "note": ""}
            out.append(row)
            ref = raw.get("$ref")
            if ref in seen:
                row["note"] = f"keys as `{seen[ref]}`"
                continue
            if ref:
                seen[ref] = p
            walk_children(sub, p, default, seen)

    def walk_children(sub: dict, p: str, default, seen: dict) -> None:
        if "properties" in sub:
            walk(sub, f"{p}.", default, seen)
        elif isinstance(sub.get("additionalProperties"), dict):
            entry = resolve_ref(sub["additionalProperties"], schema)
            walk_children(entry, f"{p}.{PLACEHOLDERS.get(p, '<key>')}", MISSING, seen)

    walk(schema, "", MISSING, {})
    return out


def fmt(value) -> str:
    """A value as YAML flow text: 0.01, exact, [0.003, 0.007], {mem_mb: 2000, runtime: 10}."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()


def type_name(s: dict) -> str:
    if "oneOf" in s:
        return " or ".join(type_name(alt) for alt in s["oneOf"])
    if "enum" in s:
        return {bool: "boolean", int: "integer", float: "number"}.get(type(s["enum"][0]), "string")
    if s.get("type") == "array":
        return f"list of {type_name(s.get('items', {}))}s"
    if s.get("type") == "object" and isinstance(s.get("additionalProperties"), dict):
        return "map"
    return s.get("type", "any")


def allowed(s: dict) -> str:
    if "oneOf" in s:
        return " or ".join(dict.fromkeys(a for a in map(allowed, s["oneOf"]) if a))
    if "enum" in s:
        return ", ".join(f"`{fmt(v)}`" for v in s["enum"])
    marks = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "<"}
    parts = [f"{sign} {s[key]}" for key, sign in marks.items() if key in s]
    if s.get("minItems"):
        parts.append(f"at least {s['minItems']} item{'s' if s['minItems'] > 1 else ''}")
    if s.get("type") == "array" and allowed(s.get("items", {})):
        parts.append(f"each {allowed(s['items'])}")
    return ", ".join(parts)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown(schema: dict) -> str:
    """config/README.md: one table per top-level section."""
    lines = [
        "<!-- Generated from config/schema.yaml; do not edit. Regenerate with:",
        "     implicit3d config --markdown > config/README.md -->",
        "# Configuration reference",
        "",
        "The workflow reads `config/config.yaml`, then each `--configfile FILE` and `--config KEY=VALUE`",
        "given to Snakemake, each merged over the one before; `config/schema.yaml` validates the result and",
        "fills in the defaults below. `implicit3d config [--configfile FILE] [--set KEY=VALUE]` prints every",
        "key with the value a run would use, marking those that differ from their default.",
        "",
        "Defaults are the values `config/config.yaml` ships. Inside `architectures` and `overrides`",
        "entries an absent key takes the code's default listed here (`<name>`, `<object>` and `<model>`",
        "stand for the entries' names). Value ranges: `≥ 1` means at least 1, `> 0` more than 0.",
        "",
    ]
    by_section: dict[str, list[dict]] = {}
    for row in rows(schema):
        by_section.setdefault(row["path"].split(".")[0], []).append(row)
    top = [r[0] for r in by_section.values() if len(r) == 1 and "properties" not in r[0]["schema"]]
    header = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]

    def line(r: dict) -> str:
        default = "required" if r["default"] is MISSING else f"`{fmt(r['default'])}`"
        cells = [f"`{r['path']}`", type_name(r["schema"]), default, allowed(r["schema"]) or r["note"],
                 r["schema"].get("description", "")]  # fmt: skip
        if r["note"] and allowed(r["schema"]):
            cells[3] += f"; {r['note']}"
        return "| " + " | ".join(_cell(c) for c in cells) + " |"

    lines += ["## Top-level keys", "", *header, *(line(r) for r in top), ""]
    for name, section in by_section.items():
        head, body = section[0], section[1:]
        if head in top:
            continue
        text = _cell(head["schema"].get("description", ""))
        lines += [f"## {name}", "", text[:1].upper() + text[1:] + "."]
        if isinstance(head["schema"].get("additionalProperties"), dict) and head["default"]:
            lines[-1] += " Default: " + ", ".join(f"`{k}`" for k in head["default"]) + " (see `config/config.yaml`)."
        lines += ["", *header, *(line(r) for r in body), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def flatten(value, path: str = "") -> dict:
    if isinstance(value, dict) and value:
        return {k: v for key, sub in value.items() for k, v in flatten(sub, f"{path}{key}.").items()}
    return {path.rstrip("."): value}


def describe(config: dict, schema: dict, sources: list[str]) -> str:
    """Every key as `dotted.path: value`, marking values that differ from the default."""
    shown, unset = copy.deepcopy(config), []
    arch = schema["definitions"]["architecture"]
    for name, entry in (shown.get("architectures") or {}).items():
        fill_defaults(entry, arch, schema, unset, f"architectures.{name}.")
    defaults = flatten(fill_defaults({}, schema))
    lines = ["# " + " < ".join(sources),
             "# `# default: X`: differs from its default X; `# unset`: not in the config, the code's default applies"]
    for path, value in flatten(shown).items():
        mark = ""
        if path in defaults and defaults[path] != value:
            mark = f"  # default: {fmt(defaults[path])}"
        elif path not in defaults:
            mark = "  # unset" if any(path == u or path.startswith(u + ".") for u in unset) else "  # default: none"
        lines.append(f"{path}: {fmt(value)}{mark}")
    return "\n".join(lines)

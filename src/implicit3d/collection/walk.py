"""Finding the mesh files under a folder, recursively, and saying why every other file is skipped."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..formats import MESH_EXTENSIONS

# Folders that archives and operating systems add beside the data.
SYSTEM_FOLDERS = {"__MACOSX": "macOS archive metadata", "__pycache__": "Python cache"}


@dataclass(frozen=True)
class Skipped:
    """A file (or folder) under the root that is no object, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Scan:
    """Mesh files as POSIX paths relative to the root, sorted, and everything skipped."""

    root: Path
    meshes: list[str]
    skipped: list[Skipped]


def ignore_matcher(patterns: list[str]) -> re.Pattern | None:
    """One regular expression for all `ignore` patterns (fnmatch, on a file's name)."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None


def scan(root: str | os.PathLike, ignore: list[str] = ()) -> Scan:
    """Every file under `root` (symbolic links followed), split into mesh files and skipped ones.

    A link back to a folder it lies in fails with one line naming it; a broken link is skipped."""
    root = Path(root)
    ignored = ignore_matcher(list(ignore))
    meshes: list[str] = []
    skipped: list[Skipped] = []
    # (relative folder, its path, the real paths of it and the folders above it): a link to one of
    # those would loop.
    stack = [("", str(root), (os.path.realpath(root),))]
    while stack:
        rel, folder, chain = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listing = list(entries)
        except PermissionError:
            raise ConfigError(f"meshes: cannot read folder '{folder}' (permission denied)") from None
        except OSError as exc:
            raise ConfigError(f"meshes: cannot read folder '{folder}' ({exc.strerror or exc})") from None
        for entry in listing:
            name, path = entry.name, rel + entry.name
            if name.startswith("."):
                skipped.append(Skipped(path, "hidden"))
            elif ignored is not None and ignored.match(name):
                skipped.append(Skipped(path, "matches an `ignore` pattern"))
            elif entry.is_dir():
                link = entry.is_symlink()
                target = os.path.realpath(entry.path) if link else os.path.join(chain[-1], name)
                if link and any(target == c or c.startswith(target + os.sep) for c in chain):
                    raise ConfigError(f"meshes: '{entry.path}' is a symbolic link to '{target}', a folder it lies in (a loop)")
                if name in SYSTEM_FOLDERS:
                    skipped.append(Skipped(path + "/", SYSTEM_FOLDERS[name]))
                else:
                    stack.append((path + "/", entry.path, (*chain, target)))
            elif not entry.is_file():
                skipped.append(Skipped(path, "broken link" if entry.is_symlink() else "not a regular file"))
            elif os.path.splitext(name)[1].lower() in MESH_EXTENSIONS:
                meshes.append(path)
            else:
                suffix = os.path.splitext(name)[1]
                skipped.append(Skipped(path, f"not a mesh file ({suffix or 'no extension'})"))
    meshes.sort()
    skipped.sort(key=lambda s: s.path)
    return Scan(root, meshes, skipped)

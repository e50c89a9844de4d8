"""Where the viewer's page template and the vendored three.js lie (see README.md here). A module
of its own, so that the Snakefile can name them as inputs without importing the viewer, whose
imports (torch, trimesh) would add seconds to every planning and every cluster job."""

from pathlib import Path

ASSETS = Path(__file__).parent
TEMPLATE = ASSETS / "viewer.html"
THREE_JS = ASSETS / "three.min.js"

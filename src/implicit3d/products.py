"""What each object yields beyond its models and their evaluation (config `products`)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError

FIGURE_KINDS = ("slices", "render", "trace")
NEEDS_RECONSTRUCTION = ("render", "trace")  # they draw the marching-cubes surface


@dataclass(frozen=True)
class Products:
    reconstruction: bool = True
    figures: tuple[str, ...] = FIGURE_KINDS
    figures_for: int | None = None  # None: every object; N: each model's N worst objects (per category)
    viewer: bool = True

    @classmethod
    def from_config(cls, config: dict) -> Products:
        """The `products` section, checked: what draws a reconstruction needs one."""
        section = config.get("products") or {}
        worst = section.get("figures_for", "all")
        products = cls(
            bool(section.get("reconstruction", True)),
            tuple(k for k in FIGURE_KINDS if k in section.get("figures", FIGURE_KINDS)),
            None if worst == "all" else int(worst),
            bool(section.get("viewer", True)),
        )
        if not products.reconstruction:
            needs = [k for k in products.figures if k in NEEDS_RECONSTRUCTION] + (["viewer"] if products.viewer else [])
            if needs:
                raise ConfigError(f"config key 'products': {', '.join(needs)} need products.reconstruction: true (they show the reconstruction)")
        return products

    @property
    def per_object_figures(self) -> tuple[str, ...]:
        """The figures every object gets (none when only the worst objects get them)."""
        return self.figures if self.figures_for is None else ()

"""Sphere tracing the learned SDF itself (no mesh): a batched CPU ray marcher in torch.

Each ray starts where it enters the sampled volume (the unit ball or the cube [-1, 1]^3 of the
normalized frame: the model saw no points outside it) and advances by the predicted SDF times a
safety factor, but never by more than `cap`. The cap matters: a model trained with the clamped L1
loss (`l1_clamp`, clamp 0.1) only learned "at least the clamp away" beyond the clamp, so its
far-field values are no distances and a raw step may jump past a surface. A ray stops on a hit
(|sdf| < eps), when it leaves the volume, or after `max_steps` evaluations ("exhausted": mostly
grazing rays along silhouettes, drawn as misses). Only the rays still marching are evaluated.

`first_crossing` is the reference: a fine fixed-step march that finds each ray's first sign change;
a traced hit behind it (or a miss where it finds one) overshot.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

Field = Callable[[torch.Tensor], torch.Tensor]  # (n, 3) points -> (n,) SDF


def step_cap(training: dict) -> float | None:
    """The step cap for a model trained with `training` (its config section): the loss clamp under
    `l1_clamp`; None (no cap) for losses fitted over the whole volume."""
    from .training import TrainConfig

    cfg = TrainConfig.from_dict(training or {})
    return float(cfg.clamp) if cfg.loss == "l1_clamp" else None


def view_basis(elev: float, azim: float, rotate: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, up, towards the eye) unit vectors in the model frame for matplotlib's view_init(elev,
    azim) (degrees) of the frame rotated by `rotate` (vertical axis z there, as in mplot3d)."""
    e, a = math.radians(elev), math.radians(azim)
    w = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
    u = np.cross([0.0, 0.0, 1.0], w)
    u /= np.linalg.norm(u)
    v = np.cross(w, u)
    rot = np.eye(3) if rotate is None else np.asarray(rotate, dtype=np.float64)
    return u @ rot, v @ rot, w @ rot  # rotated -> model frame: x_model = rot.T @ x_rotated


def headlight(elev: float, azim: float, rotate: np.ndarray | None = None) -> np.ndarray:
    """The light of the mesh renderings and the sphere-traced images: a unit vector from slightly
    above the eye of `view_basis(elev, azim, rotate)`."""
    _, _, w = view_basis(elev, azim, rotate)
    up = np.array([0.0, 0.0, 1.0]) @ (np.eye(3) if rotate is None else np.asarray(rotate))
    light = w + 0.6 * up
    return light / np.linalg.norm(light)


def camera_rays(
    resolution: int,
    center,
    window: tuple[float, float, float, float],
    elev: float = 20.0,
    azim: float = -60.0,
    rotate: np.ndarray | None = None,
    distance: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Origins and unit directions (resolution^2, 3), rows from the top of the image. `window`
    (left, right, bottom, top) is the image on the plane through `center` facing the camera,
    in frame units; `distance` is the eye's distance from `center` (perspective), None for an
    orthographic camera."""
    u, v, w = view_basis(elev, azim, rotate)
    left, right, bottom, top = window
    xs = left + (np.arange(resolution) + 0.5) * (right - left) / resolution
    ys = top - (np.arange(resolution) + 0.5) * (top - bottom) / resolution
    y, x = np.meshgrid(ys, xs, indexing="ij")
    target = np.asarray(center, dtype=np.float64) + x.reshape(-1, 1) * u + y.reshape(-1, 1) * v
    if distance is None:
        origins, dirs = target + 4.0 * w, np.broadcast_to(-w, target.shape)
    else:
        eye = np.asarray(center, dtype=np.float64) + distance * w
        origins, dirs = np.broadcast_to(eye, target.shape), target - eye
        dirs = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    return torch.tensor(origins, dtype=torch.float32), torch.tensor(dirs, dtype=torch.float32)


def bound_interval(origins: torch.Tensor, dirs: torch.Tensor, bound: str = "sphere") -> tuple[torch.Tensor, torch.Tensor]:
    """Entry and exit distance of each ray through the unit ball (`sphere`) or the cube [-1, 1]^3;
    entry > exit where a ray misses it. Entry is at least 0 (rays that start inside)."""
    if bound == "sphere":
        b = (origins * dirs).sum(-1)
        disc = b * b - ((origins * origins).sum(-1) - 1.0)
        root = disc.clamp(min=0).sqrt()
        near, far = -b - root, -b + root
        far = torch.where(disc > 0, far, torch.full_like(far, -1.0))
    elif bound == "cube":
        inv = 1.0 / torch.where(dirs.abs() < 1e-12, torch.full_like(dirs, 1e-12), dirs)
        t1, t2 = (-1.0 - origins) * inv, (1.0 - origins) * inv
        near, far = torch.minimum(t1, t2).amax(-1), torch.maximum(t1, t2).amin(-1)
    else:
        raise ValueError(f"unknown bound '{bound}' (choose from sphere, cube)")
    return near.clamp(min=0), far


@dataclass
class March:
    """Per ray: `t` (distance along the ray where it stopped), `steps` (SDF evaluations), `hit`,
    `exhausted` (out of steps without a hit or an exit), `entered` (the ray meets the volume)."""

    t: torch.Tensor
    steps: torch.Tensor
    hit: torch.Tensor
    exhausted: torch.Tensor
    entered: torch.Tensor


@torch.no_grad()
def march(
    field: Field,
    origins: torch.Tensor,
    dirs: torch.Tensor,
    bound: str = "sphere",
    cap: float | None = 0.1,
    safety: float = 0.9,
    eps: float = 1e-3,
    max_steps: int = 128,
) -> March:
    """Sphere-trace every ray; a step is sdf * safety, at most `cap` either way (None: uncapped).
    A step that lands inside (sdf < -eps) steps back by the same rule; a ray that is inside where
    it enters the volume hits there (the volume clips the solid, as in the reconstruction)."""
    near, far = bound_interval(origins, dirs, bound)
    entered = near < far
    t = near.clone()
    steps = torch.zeros(len(t), dtype=torch.int32)
    hit = torch.zeros(len(t), dtype=torch.bool)
    active = entered.clone()
    for _ in range(max_steps):
        idx = active.nonzero().squeeze(1)
        if len(idx) == 0:
            break
        ti = t[idx]
        s = field(origins[idx] + ti.unsqueeze(1) * dirs[idx]).reshape(-1).float()
        steps[idx] += 1
        step = s * safety
        if cap is not None:
            step = step.clamp(-cap, cap)
        done = (s.abs() < eps) | ((s < 0) & (ti <= near[idx]))
        hit[idx[done]] = True
        t_next = torch.maximum(ti + step, near[idx])
        t[idx] = torch.where(done, ti, t_next)
        active[idx[done | (t_next > far[idx])]] = False
    exhausted = active  # still marching when the steps ran out
    t = torch.where(hit, t, torch.full_like(t, float("nan")))
    return March(t=t, steps=steps, hit=hit, exhausted=exhausted, entered=entered)


@torch.no_grad()
def first_crossing(field: Field, origins: torch.Tensor, dirs: torch.Tensor, bound: str = "sphere", step: float = 0.004) -> torch.Tensor:
    """Distance to each ray's first surface crossing (sdf from >= 0 to < 0, linearly interpolated)
    by a fixed-step march from where it enters the volume; NaN where there is none (or a ray starts
    inside: 0 there). Surfaces thinner than `step` can slip through."""
    near, far = bound_interval(origins, dirs, bound)
    found = torch.full_like(near, float("nan"))
    prev_t, prev_s = near.clone(), torch.zeros_like(near)
    open_ = near < far
    for k in range(int(math.ceil(float((far - near).max().clamp(min=0)) / step)) + 1):
        idx = open_.nonzero().squeeze(1)
        if len(idx) == 0:
            break
        tk = torch.minimum(near[idx] + k * step, far[idx])
        s = field(origins[idx] + tk.unsqueeze(1) * dirs[idx]).reshape(-1).float()
        if k == 0:  # at the entry: inside there counts as crossing there
            cross, at = s < 0, tk
        else:
            ps, pt = prev_s[idx], prev_t[idx]
            cross = (ps >= 0) & (s < 0)
            at = pt + ps / (ps - s).clamp(min=1e-12) * (tk - pt)
        found[idx[cross]] = at[cross]
        prev_s[idx], prev_t[idx] = s, tk
        open_[idx[cross | (tk >= far[idx])]] = False
    return found


@torch.no_grad()
def normals(field: Field, points: torch.Tensor, h: float = 0.005) -> torch.Tensor:
    """Unit normals (outward: the SDF's gradient) by central differences with step `h`."""
    offsets = torch.eye(3, dtype=points.dtype) * h
    probe = torch.cat([points + offsets[i] for i in range(3)] + [points - offsets[i] for i in range(3)])
    s = field(probe).reshape(6, len(points)).float()
    grad = (s[:3] - s[3:]).T
    return grad / grad.norm(dim=1, keepdim=True).clamp(min=1e-12)


@dataclass
class Trace:
    """A sphere-traced image: `shade` (H, W) Lambert shading in [0, 1] on hits (0 elsewhere),
    and per pixel `depth` (NaN on misses), `steps`, `hit`, `exhausted`, `entered`."""

    shade: np.ndarray
    depth: np.ndarray
    steps: np.ndarray
    hit: np.ndarray
    exhausted: np.ndarray
    entered: np.ndarray
    cap: float | None

    def summary(self) -> dict:
        """Mean steps per ray over the rays that enter the volume (the others cost nothing), the
        fraction of all rays that hit, and counts."""
        entered = self.entered
        return {
            "rays": int(self.hit.size),
            "rays_entered": int(entered.sum()),
            "mean_steps": float(self.steps[entered].mean()) if entered.any() else float("nan"),
            "mean_steps_hit": float(self.steps[self.hit].mean()) if self.hit.any() else float("nan"),
            "max_steps_taken": int(self.steps.max()) if self.steps.size else 0,
            "hit_fraction": float(self.hit.mean()),
            "exhausted": int(self.exhausted.sum()),
            "cap": self.cap,
        }


def trace_image(
    field: Field,
    center,
    window: tuple[float, float, float, float],
    resolution: int = 256,
    elev: float = 20.0,
    azim: float = -60.0,
    rotate: np.ndarray | None = None,
    distance: float | None = None,
    bound: str = "sphere",
    cap: float | None = 0.1,
    safety: float = 0.9,
    eps: float = 1e-3,
    max_steps: int = 128,
    normal_step: float = 0.005,
    light: np.ndarray | None = None,
) -> Trace:
    """Sphere-trace a resolution^2 image of `field` (see `camera_rays`, `march`) and shade the hits:
    0.3 + 0.7 * max(0, n . light), by default a headlight from slightly above the eye as in the
    mesh renderings."""
    origins, dirs = camera_rays(resolution, center, window, elev, azim, rotate, distance)
    m = march(field, origins, dirs, bound, cap, safety, eps, max_steps)
    shade = torch.zeros(len(origins))
    if m.hit.any():
        pts = origins[m.hit] + m.t[m.hit].unsqueeze(1) * dirs[m.hit]
        n = normals(field, pts, normal_step)
        if light is None:
            light = headlight(elev, azim, rotate)
        lvec = torch.tensor(np.asarray(light) / np.linalg.norm(light), dtype=torch.float32)
        shade[m.hit] = 0.3 + 0.7 * (n @ lvec).clamp(min=0)
    shape = (resolution, resolution)
    return Trace(
        shade=shade.reshape(shape).numpy(),
        depth=m.t.reshape(shape).numpy(),
        steps=m.steps.reshape(shape).numpy(),
        hit=m.hit.reshape(shape).numpy(),
        exhausted=m.exhausted.reshape(shape).numpy(),
        entered=m.entered.reshape(shape).numpy(),
        cap=cap,
    )


def model_field(model: torch.nn.Module) -> Field:
    """A model as a field: float32 points in, (n,) SDF out, in eval mode."""
    model.eval()
    return lambda x: model(x).reshape(-1)

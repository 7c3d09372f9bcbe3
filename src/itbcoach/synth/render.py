"""Headless rasteriser for synthetic clips: a posed mesh in a small room, on the CPU.

Uses ``moderngl`` with an EGL standalone context (Mesa llvmpipe works without a display
or GPU). The camera is a :class:`itbcoach.synth.kinematics.Camera`, so the pixels and the
ground-truth projection use the same pinhole model (checked in tests/synth).

Scene (lab metres, ``z`` up, subject facing ``+x``): a floor at ``z = 0``, a wall behind
the subject, optional boxes (the step), one key light and one fill light plus ambient,
flat per-part colours, 4x multisampling, then seeded Gaussian pixel noise (by table,
:func:`noise_table`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from itbcoach.errors import InputError
from itbcoach.synth.kinematics import Camera

log = logging.getLogger(__name__)

_VERT = """
#version 330
uniform mat4 mvp;
in vec3 in_pos;
in vec3 in_nrm;
in vec3 in_col;
out vec3 v_nrm;
out vec3 v_col;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    v_nrm = in_nrm;
    v_col = in_col;
}
"""

_FRAG = """
#version 330
uniform vec3 key_dir;
uniform vec3 fill_dir;
uniform float key;
uniform float fill;
uniform float ambient;
in vec3 v_nrm;
in vec3 v_col;
out vec4 f_color;
void main() {
    vec3 n = normalize(v_nrm);
    float d = key * max(dot(n, key_dir), 0.0) + fill * max(dot(n, fill_dir), 0.0) + ambient;
    f_color = vec4(clamp(v_col * d, 0.0, 1.0), 1.0);
}
"""


@dataclass(frozen=True)
class Box:
    """An axis-aligned box (e.g. the step), lab metres, RGB in 0..1."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    color: tuple[float, float, float] = (0.55, 0.42, 0.30)


@dataclass(frozen=True)
class Lighting:
    """Directional lights (unit vectors toward the light, lab frame) and strengths."""

    key_dir: tuple[float, float, float] = (0.6, 0.5, 0.8)
    fill_dir: tuple[float, float, float] = (0.7, -0.6, 0.2)
    key: float = 0.75
    fill: float = 0.30
    ambient: float = 0.28


@dataclass(frozen=True)
class Scene:
    """Everything but the body.

    Attributes:
        wall_x: the wall plane ``x = wall_x`` behind the subject (m).
        floor_color, wall_color: RGB 0..1.
        boxes: extra boxes (the step).
        lighting: lights.
        noise_sd: Gaussian pixel noise SD in 8-bit levels.
    """

    wall_x: float = -1.2
    floor_color: tuple[float, float, float] = (0.62, 0.60, 0.56)
    wall_color: tuple[float, float, float] = (0.80, 0.80, 0.78)
    boxes: tuple[Box, ...] = ()
    lighting: Lighting = field(default_factory=Lighting)
    noise_sd: float = 2.0


def _box_mesh(b: Box) -> tuple[np.ndarray, np.ndarray]:
    """Triangles ``(36, 3)`` positions and normals of a box."""
    c = np.asarray(b.center, float)
    h = np.asarray(b.size, float) / 2
    pos, nrm = [], []
    for axis in range(3):
        for sgn in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sgn
            u = np.zeros(3)
            u[(axis + 1) % 3] = 1.0
            w = np.zeros(3)
            w[(axis + 2) % 3] = 1.0
            corners = [c + n * h + su * u * h + sw * w * h
                       for su, sw in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            for tri in ((0, 1, 2), (0, 2, 3)):
                pos.extend(corners[i] for i in tri)
                nrm.extend([n] * 3)
    return np.asarray(pos), np.asarray(nrm)


def _quad(corners: Sequence[Sequence[float]], normal: Sequence[float]) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    p = np.asarray(corners, float)
    pos = p[[0, 1, 2, 0, 2, 3]]
    return pos, np.tile(np.asarray(normal, float), (6, 1))


def vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals ``(V, 3)`` of a triangle mesh."""
    tri = verts[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    out = np.zeros_like(verts)
    for k in range(3):
        for c in range(3):
            out[:, c] += np.bincount(faces[:, k], weights=fn[:, c], minlength=len(verts))
    n = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(n, 1e-12)


def noise_table(sd: float) -> np.ndarray:
    """``(256,)`` int16 pixel noise levels: ``floor(sd * z_k)`` for the Gaussian quantiles
    ``z_k`` at ``(k + 0.5) / 256``; indexed by uniform random bytes they give
    ``floor(N(0, sd))`` (the former ``astype`` of ``level + N(0, sd)``), tails cut at
    2.9 SD."""
    from statistics import NormalDist

    z = np.array([NormalDist().inv_cdf((k + 0.5) / 256.0) for k in range(256)])
    return np.floor(float(sd) * z).astype(np.int16)


def gl_matrix(camera: Camera, near: float = 0.05, far: float = 50.0) -> np.ndarray:
    """The 4x4 clip-space matrix equal to ``camera``'s pinhole projection.

    OpenCV camera axes (x right, y down, z forward) are turned into OpenGL's (y up, z
    backward); the image is read back bottom-up and flipped, so pixel ``(u, v)`` of the
    output equals :meth:`Camera.project`'s ``(x * width, y * height)``.
    """
    w, h, f = camera.width, camera.height, camera.focal_px
    view = np.eye(4)
    view[:3, :3] = camera.rotation
    view[:3, 3] = -camera.rotation @ np.asarray(camera.position)
    flip = np.diag([1.0, -1.0, -1.0, 1.0])
    proj = np.zeros((4, 4))
    proj[0, 0] = 2 * f / w
    proj[1, 1] = 2 * f / h
    proj[2, 2] = -(far + near) / (far - near)
    proj[2, 3] = -2 * far * near / (far - near)
    proj[3, 2] = -1.0
    return proj @ flip @ view


class Renderer:
    """Renders frames of one body in one scene through one camera.

    Args:
        camera: the pinhole camera (image size and focal length).
        faces: ``(F, 3)`` body triangles.
        vertex_colors: ``(V, 3)`` body colours, RGB 0..1.
        scene: the room.
        seed: pixel-noise seed (same seed, same frames).
        samples: multisample count (anti-aliasing).
    """

    def __init__(self, camera: Camera, faces: np.ndarray, vertex_colors: np.ndarray,
                 scene: Scene | None = None, seed: int = 0, samples: int = 4) -> None:
        try:
            import moderngl
        except ImportError:  # pragma: no cover - depends on the environment
            raise InputError("synthetic renders need moderngl; install the synthetic-render "
                             "extra: pip install 'itbcoach[synth]'") from None
        self.camera = camera
        self.scene = scene or Scene()
        self.rng = np.random.default_rng(seed)
        self._noise_table = noise_table(self.scene.noise_sd)
        self.faces = np.ascontiguousarray(faces, dtype=np.int32)
        self.colors = np.asarray(vertex_colors, np.float32)
        try:
            self.ctx = moderngl.create_context(standalone=True, backend="egl")
        except Exception as exc:  # moderngl raises plain Exception on context failure
            raise InputError(f"cannot create a headless OpenGL context ({exc}); "
                             "install Mesa EGL (libegl1 libgl1-mesa-dri)") from None
        self.prog = self.ctx.program(vertex_shader=_VERT, fragment_shader=_FRAG)
        lt = self.scene.lighting
        self.prog["mvp"].write(gl_matrix(camera).T.astype("f4").tobytes())
        self.prog["key_dir"].value = tuple(np.asarray(lt.key_dir) / np.linalg.norm(lt.key_dir))
        self.prog["fill_dir"].value = tuple(np.asarray(lt.fill_dir)
                                            / np.linalg.norm(lt.fill_dir))
        self.prog["key"].value = lt.key
        self.prog["fill"].value = lt.fill
        self.prog["ambient"].value = lt.ambient
        w, h = camera.width, camera.height
        self.fbo_ms = self.ctx.framebuffer(
            color_attachments=[self.ctx.renderbuffer((w, h), 4, samples=samples)],
            depth_attachment=self.ctx.depth_renderbuffer((w, h), samples=samples))
        self.fbo = self.ctx.framebuffer(color_attachments=[self.ctx.renderbuffer((w, h), 4)])
        self.static = self._static_vao()
        nv = len(self.colors)
        self.body_buf = self.ctx.buffer(reserve=nv * 9 * 4)
        self.body_ibo = self.ctx.buffer(self.faces.tobytes())
        self.body_vao = self.ctx.vertex_array(
            self.prog, [(self.body_buf, "3f 3f 3f", "in_pos", "in_nrm", "in_col")],
            index_buffer=self.body_ibo)

    def _static_vao(self):
        sc = self.scene
        parts: list[tuple[np.ndarray, np.ndarray, tuple[float, float, float]]] = []
        big = 8.0
        p, n = _quad([(-big, -big, 0), (big, -big, 0), (big, big, 0), (-big, big, 0)],
                     (0, 0, 1))
        parts.append((p, n, sc.floor_color))
        x = sc.wall_x
        p, n = _quad([(x, -big, 0), (x, big, 0), (x, big, 4), (x, -big, 4)], (1, 0, 0))
        parts.append((p, n, sc.wall_color))
        for b in sc.boxes:
            p, n = _box_mesh(b)
            parts.append((p, n, b.color))
        data = np.concatenate([
            np.hstack([p, n, np.tile(np.asarray(c, float), (len(p), 1))])
            for p, n, c in parts]).astype("f4")
        buf = self.ctx.buffer(data.tobytes())
        return self.ctx.vertex_array(self.prog, [(buf, "3f 3f 3f", "in_pos", "in_nrm",
                                                  "in_col")])

    def render(self, vertices: np.ndarray) -> np.ndarray:
        """One BGR ``uint8`` frame ``(H, W, 3)`` of the body at ``vertices`` ``(V, 3)``."""
        import moderngl

        nrm = vertex_normals(vertices.astype(np.float64), self.faces)
        data = np.hstack([vertices, nrm, self.colors]).astype("f4")
        self.body_buf.write(data.tobytes())
        self.fbo_ms.use()
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.clear(0.0, 0.0, 0.0, 1.0)
        self.static.render(moderngl.TRIANGLES)
        self.body_vao.render(moderngl.TRIANGLES)
        self.ctx.copy_framebuffer(self.fbo, self.fbo_ms)
        w, h = self.camera.width, self.camera.height
        raw = self.fbo.read(components=3, alignment=1)
        img = np.frombuffer(raw, np.uint8).reshape(h, w, 3)[::-1, :, ::-1]
        if self.scene.noise_sd > 0:
            # floor(level + N(0, sd)) by table: one random byte per value picks one of
            # 256 equiprobable Gaussian quantiles (8x faster than drawing normals, the
            # larger part of a 1080p frame's time)
            pick = self.rng.integers(0, 256, img.shape, dtype=np.uint8)
            out = self._noise_table[pick]
            out += img
            np.clip(out, 0, 255, out=out)
            return out.astype(np.uint8)
        return np.ascontiguousarray(img)

    def release(self) -> None:
        """Free the GL context."""
        self.ctx.release()

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

"""Rendering speed on this machine: batch views/s at 224 px (clay and skin), interactive fps at
512 px (full and draft quality, clay and skin), and the cost of posing.

Run: ``ANNY_CACHE_DIR=.cache/anny python bench/render.py [--batch 32] [--rounds 5]``.
Prints figures only (no assertions); run it on a GPU machine too for its figures. On a
shared, busy CPU the wall-clock rate understates the renderer: each line also gives the rate
implied by the process's CPU time (all threads, llvmpipe's included) spread over every core.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from semantify.models import load_model
from semantify.pictures.appearance import material_for
from semantify.pictures.renderers import batch_renderer, interactive_renderer
from semantify.poses import posed_vertices
from viewer import OrbitCamera, gl_session


def timed(run, count: int) -> tuple[float, str]:
    """Seconds of wall clock ``run()`` took, and the rate its CPU time implies on all cores."""
    cpu, started = time.process_time(), time.perf_counter()
    run()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return elapsed, f"(CPU time implies {count * (os.cpu_count() or 1) / cpu:7.1f}/s on all cores)"


def bench_batch(model, batch: int, rounds: int, size: int, samples: int,
                appearance: str = "clay") -> None:
    renderer = batch_renderer(model, ["front", "side"], size=size, samples=samples,
                              appearance=appearance)
    vertices = model(model.sample(range(batch), seed=0)).numpy()
    renderer.render(vertices)  # warm-up: shader compilation
    renderer.stats = dict.fromkeys(renderer.stats, 0)
    elapsed, implied = timed(lambda: [renderer.render(vertices) for _ in range(rounds)],
                             2 * batch * rounds)
    stats = renderer.stats
    print(f"batch {size}px x2 views, B={batch}, samples={samples}, {appearance}: "
          f"{stats['views'] / elapsed:7.1f} views/s {implied} | upload "
          f"{stats['upload'] / elapsed:5.1%} draw+finish {stats['draw'] / elapsed:5.1%} "
          f"readback {stats['readback'] / elapsed:5.1%}")
    renderer.release()


def bench_interactive(model, frames: int, size: int, samples: int, wireframe: bool = False,
                      new_shapes: bool = False, quality: str = "full",
                      appearance: str = "clay") -> None:
    """Orbit around one shape, or (``new_shapes``) show a new shape each frame (sliders)."""
    renderer = interactive_renderer(model, size=size, samples=samples)
    material = material_for(model, appearance)
    shapes = model(model.sample(range(2 if new_shapes else 1), seed=0)).numpy()
    renderer.render(shapes[0], material=material, quality=quality)
    renderer.stats = dict.fromkeys(renderer.stats, 0)
    elapsed, implied = timed(
        lambda: [renderer.render(shapes[frame % len(shapes)], OrbitCamera(azimuth=frame * 3.0),
                                 wireframe=wireframe, material=material, quality=quality)
                 for frame in range(frames)], frames)
    readback = renderer.stats["readback"] / elapsed
    print(f"interactive {size}px samples={samples} {quality} {appearance} wireframe={wireframe} "
          f"new_shapes={new_shapes}: {frames / elapsed:6.1f} fps {implied} | readback "
          f"{readback:5.1%}")
    renderer.release()


def bench_posing(model, batch: int, rounds: int, pose: str = "walking") -> None:
    """Milliseconds per call of the rest shape and of ``pose`` (skinning on top), with torch's
    own thread count and with one thread (as the app serves: on a busy CPU, small ops crawl
    when torch's threads wait on each other)."""
    threads = torch.get_num_threads()
    for count in sorted({threads, 1}, reverse=True):
        torch.set_num_threads(count)
        for size in (1, batch):
            coefficients = model.sample(range(size), seed=0)
            posed_vertices(model, coefficients, pose)  # warm-up: pose rotations are cached
            for name in ("rest", pose):
                elapsed, _ = timed(lambda: [posed_vertices(model, coefficients,  # noqa: B023
                                                           name)  # noqa: B023
                                            for _ in range(rounds)], rounds)
                print(f"posed_vertices B={size} {name}, {count} torch thread(s): "
                      f"{1000 * elapsed / rounds:7.1f} ms")
    torch.set_num_threads(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="anny-body")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--only", choices=("posing",), help="run one part only")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    model = load_model(args.model)
    with gl_session() as context:
        info = context.info
    print(f"OpenGL: {info['GL_RENDERER']} ({info['GL_VERSION']})")
    if args.only == "posing":
        bench_posing(model, args.batch, args.rounds)
        return
    bench_batch(model, args.batch, args.rounds, 224, 0)
    bench_batch(model, args.batch, args.rounds, 224, 0, "skin")
    bench_batch(model, args.batch, args.rounds, 224, 4)
    bench_interactive(model, args.frames, 512, 4)
    bench_interactive(model, args.frames, 512, 4, appearance="skin")
    bench_interactive(model, args.frames, 512, 4, quality="draft")
    bench_interactive(model, args.frames, 512, 4, new_shapes=True)
    bench_interactive(model, args.frames, 512, 0)
    bench_interactive(model, args.frames, 512, 4, wireframe=True)
    bench_interactive(model, args.frames // 2, 1024, 4)
    bench_posing(model, args.batch, args.rounds)


if __name__ == "__main__":
    main()

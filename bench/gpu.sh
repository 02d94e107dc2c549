#!/usr/bin/env bash
# The default anny-body recipe on one CUDA GPU, in one go, with each stage's time.
#
#   bash bench/gpu.sh                      # ViT-B-32 with random weights: timing only
#   CLIP=ViT-B-32/laion2b_s34b_b79k bash bench/gpu.sh    # real weights (cached, or Hub reachable)
#
# Target: <= 60 s wall for `semantify build anny-body` on one H100-class GPU. CLIP runs under
# fp16 autocast on CUDA (semantify.clip.ClipScorer), rendering on the NVIDIA driver's EGL
# (checked below: the script stops if the renderer is Mesa's llvmpipe), training on the CPU
# (a few MB of data). Needs a Python with a CUDA torch and this project installed
# (`pip install -e .` after a CUDA torch); PYTHON picks it (default: .venv/bin/python, else
# python3). Anny's one-time model build (about a minute) is done before the clock starts.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
CLIP=${CLIP:-ViT-B-32/random}
WORKERS=${WORKERS:-4}  # render processes: the GPU encodes faster than one CPU process renders
export ANNY_CACHE_DIR=${ANNY_CACHE_DIR:-$PWD/.cache/anny}
export SEMANTIFY_CACHE_DIR=${SEMANTIFY_CACHE_DIR:-$PWD/.cache/semantify}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}

# glvnd picks the EGL vendor; point it at NVIDIA's when both it and Mesa's are installed.
for vendor in /usr/share/glvnd/egl_vendor.d/10_nvidia.json /etc/glvnd/egl_vendor.d/10_nvidia.json; do
  if [ -f "$vendor" ] && [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES=$vendor
  fi
done

"$PYTHON" - <<'EOF'
import sys
import torch
if not torch.cuda.is_available():
    sys.exit(f"bench/gpu.sh: no CUDA device visible to torch {torch.__version__}; install a CUDA "
             "build of torch or run bench/build.py for the CPU figures.")
from viewer.context import gl_context
renderer = gl_context().info["GL_RENDERER"]
print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, GL: {renderer}")
if "llvmpipe" in renderer.lower() or "softpipe" in renderer.lower():
    sys.exit("bench/gpu.sh: EGL gave Mesa's software renderer; install the NVIDIA EGL library "
             "(libnvidia-egl / libnvidia-gl) or set __EGL_VENDOR_LIBRARY_FILENAMES to its "
             "10_nvidia.json.")
from semantify.models import load_model
load_model("anny-body")  # Anny's one-time build, outside the timed run
EOF

"$PYTHON" bench/build.py --recipe anny-body --clip "$CLIP" --workers "$WORKERS" --target 60 "$@"

#!/usr/bin/env bash
# One idempotent set-up step for mmfrozen: Python venv, PyTorch, mmcv built from source with ops
# (cached by torch version and CUDA), the pinned OpenMMLab stack, openmim, test tools and
# mmfrozen itself in editable mode. Two stacks: upstream OpenMMLab (the default, in .venv/) and
# its maintained fork, the onedl-* distributions (STACK=onedl, in .venv-onedl/).
#
#   bash tools/setup_env.sh            # set up if the venv is missing or stale, else do nothing
#   bash tools/setup_env.sh --force    # run every step again (cached mmcv wheel still reused)
#   bash tools/setup_env.sh --check    # exit 0 if the venv is up to date, 1 if missing or stale
#
# Environment knobs:
#   STACK=upstream|onedl     upstream (default): mmcv 2.1.0, mmengine 0.10.7, mmdet 3.3.0,
#                            mmpretrain 1.2.0 in .venv/ (requirements/runtime.txt); onedl:
#                            onedl-mmcv 2.3.6, onedl-mmengine 0.10.12, onedl-mmdetection 3.5.1,
#                            onedl-mmpretrain 1.3.6 in .venv-onedl/ (requirements/onedl.txt)
#   PYTHON=python3.11        interpreter used to create the venv
#   TORCH_SPEC="torch==2.14.1 torchvision==0.29.1"
#                            what to install for PyTorch; set MMFROZEN_KEEP_TORCH=1 to keep a
#                            torch already in the venv (e.g. a CUDA build you installed yourself)
#   MMFROZEN_CACHE=~/.cache/mmfrozen   where built mmcv wheels are kept (outside the repo)
#   FORCE_CUDA=0|1           default: 1 when nvcc is on PATH and nvidia-smi sees a GPU
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${STACK:-upstream}"
# Per stack: the venv, mmcv's distribution (its sdist and wheel are named after it), the
# requirements file of the rest of the stack, and the setuptools that builds mmcv and runs the
# stack (upstream: < 70, mmcv 2.1's setup.py and mmengine 0.10.7 import pkg_resources; the fork's
# pyproject.toml needs >= 80 to build, and openmim still imports pkg_resources, gone in 82).
case "$STACK" in
  upstream) VENV="$ROOT/.venv" MMCV_DIST=mmcv MMCV_VERSION=2.1.0
            STACK_REQS="$ROOT/requirements/runtime.txt" SETUPTOOLS="setuptools>=64,<70" ;;
  onedl)    VENV="$ROOT/.venv-onedl" MMCV_DIST=onedl-mmcv MMCV_VERSION=2.3.6
            STACK_REQS="$ROOT/requirements/onedl.txt" SETUPTOOLS="setuptools>=80,<82" ;;
  *) echo "STACK=$STACK: unknown stack; use STACK=upstream (the default) or STACK=onedl" >&2
     exit 2 ;;
esac
MMCV_WHEEL="${MMCV_DIST//-/_}"   # the file name of its wheel and sdist: mmcv-*, onedl_mmcv-*
PY="$VENV/bin/python"
STAMP="$VENV/.mmfrozen-setup"
PYTHON="${PYTHON:-python3.11}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}"
CACHE="${MMFROZEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmfrozen}"
FORCE=0
CHECK=0
case "${1:-}" in
  --force) FORCE=1 ;;
  --check) CHECK=1 ;;
  "") ;;
  *) echo "usage: bash tools/setup_env.sh [--force|--check]" >&2; exit 2 ;;
esac

STEP="start"
T0=$SECONDS
step() { STEP="$1"; printf '\n[setup %4ds] %s\n' "$((SECONDS - T0))" "$1"; }
trap 'rc=$?; if [[ $rc -ne 0 ]]; then printf "\n[setup] FAILED at step: %s (exit %d)\n[setup] Fix the cause above and run: bash tools/setup_env.sh --force\n" "$STEP" "$rc" >&2; fi' EXIT

# shellcheck source=tools/mmcv_build.sh
source "$ROOT/tools/mmcv_build.sh"

# What the venv is built from: when any of it changes, the venv is stale.
fingerprint() {
  cat "$ROOT/tools/setup_env.sh" "$ROOT/tools/mmcv_build.sh" "$ROOT"/requirements/*.txt "$ROOT/setup.cfg" "$ROOT/pyproject.toml" 2>/dev/null \
    | sha256sum | cut -c1-16
  echo "$STACK $TORCH_SPEC ${MMFROZEN_KEEP_TORCH:-0}"
}
WANT="$(fingerprint)"
if [[ $FORCE -eq 0 && -x "$PY" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  trap - EXIT
  exit 0
fi
if [[ $CHECK -eq 1 ]]; then
  trap - EXIT
  echo "${VENV#"$ROOT/"}/ is missing or stale: run STACK=$STACK bash tools/setup_env.sh" >&2
  exit 1
fi

step "1/6 python venv at ${VENV#"$ROOT/"}/ ($PYTHON, STACK=$STACK)"
command -v "$PYTHON" >/dev/null || { echo "no $PYTHON on PATH: install Python 3.11 or set PYTHON=" >&2; exit 1; }
[[ -x "$PY" ]] || "$PYTHON" -m venv "$VENV"
PIP=("$PY" -m pip --disable-pip-version-check --no-input)
rm -f "$STAMP"

step "2/6 PyTorch ($TORCH_SPEC)"
if [[ "${MMFROZEN_KEEP_TORCH:-0}" == 1 ]] && "$PY" -c 'import torch, torchvision' 2>/dev/null; then
  echo "keeping the torch already in ${VENV#"$ROOT/"} (MMFROZEN_KEEP_TORCH=1)"
else
  # shellcheck disable=SC2086
  "${PIP[@]}" install -q $TORCH_SPEC
fi
# Installing torch moves setuptools; mmcv's build needs the stack's (see SETUPTOOLS above).
"${PIP[@]}" install -q "$SETUPTOOLS" wheel ninja
read -r TORCH_VER CUDA_TAG < <("$PY" -c 'import torch; print(torch.__version__.split("+")[0], "cu"+torch.version.cuda.replace(".","") if torch.version.cuda else "cpu")')
echo "torch $TORCH_VER, CUDA runtime tag $CUDA_TAG"

step "3/6 $MMCV_DIST $MMCV_VERSION with ops (built from source, cached per torch/CUDA)"
if [[ -z "${FORCE_CUDA:-}" ]]; then
  FORCE_CUDA=0
  if command -v nvcc >/dev/null && command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then FORCE_CUDA=1; fi
fi
OPS_TAG=$([[ "$FORCE_CUDA" == 1 ]] && echo "$CUDA_TAG" || echo cpuops)
PYTAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
WHEEL_DIR="$CACHE/wheels/$MMCV_DIST-$MMCV_VERSION-torch$TORCH_VER-$CUDA_TAG-$OPS_TAG-$PYTAG"
have_mmcv() { "$PY" -c "import mmcv, mmcv._ext; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; }
if have_mmcv && [[ -f "$VENV/.mmcv-key" && "$(cat "$VENV/.mmcv-key")" == "$WHEEL_DIR" ]]; then
  echo "mmcv $MMCV_VERSION with ops already installed for this torch"
else
  if ! ls "$WHEEL_DIR/$MMCV_WHEEL"-*.whl >/dev/null 2>&1; then
    echo "no cached wheel in $WHEEL_DIR: building (about 7 minutes on 2 cores; FORCE_CUDA=$FORCE_CUDA)"
    BUILD="$(mktemp -d)"
    "${PIP[@]}" download -q --no-deps --no-binary :all: -d "$BUILD" "$MMCV_DIST==$MMCV_VERSION"
    SRC=$(mmcv_prepare_source "$PY" "$BUILD/$MMCV_WHEEL-$MMCV_VERSION.tar.gz" "$BUILD")
    mkdir -p "$WHEEL_DIR"
    LOG="$CACHE/mmcv-build.log"
    mkdir -p "$CACHE"
    echo "compiler output goes to $LOG"
    if ! FORCE_CUDA="$FORCE_CUDA" MAX_JOBS="${MAX_JOBS:-$(mmcv_cores)}" \
        mmcv_build_wheel "$PY" "$SRC" "$BUILD/dist" "$LOG"; then
      grep -m5 -B2 -A3 'error' "$LOG" >&2 || tail -n 40 "$LOG" >&2
      echo "$MMCV_DIST build failed; full log: $LOG" >&2
      exit 1
    fi
    # copy then rename, so an interrupted set-up never leaves a truncated wheel in the cache
    for whl in "$BUILD/dist/$MMCV_WHEEL"-*.whl; do
      cp "$whl" "$WHEEL_DIR/.$(basename "$whl").part" && mv "$WHEEL_DIR/.$(basename "$whl").part" "$WHEEL_DIR/$(basename "$whl")"
    done
    rm -rf "$BUILD"
  else
    echo "reusing cached wheel from $WHEEL_DIR"
  fi
  "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL_DIR/$MMCV_WHEEL"-*.whl
  echo "$WHEEL_DIR" > "$VENV/.mmcv-key"
fi

step "4/6 OpenMMLab stack, openmim and test tools (pinned in requirements/)"
"${PIP[@]}" install -q -r "$STACK_REQS" -r "$ROOT/requirements/tests.txt"
"${PIP[@]}" install -q --no-deps openmim==0.3.9
"${PIP[@]}" install -q --no-deps -r "$ROOT/requirements/timm.txt"  # keeps the installed torch
"${PIP[@]}" install -q -r <(grep -v '^openmim' "$ROOT/requirements/mim.txt")
"${PIP[@]}" install -q "$SETUPTOOLS"   # re-pin: nothing above may have moved it

step "5/6 mmfrozen (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

step "6/6 check"
"$PY" - <<'PYEOF'
import mmcv, mmcv._ext, mmengine, mmdet, mmpretrain, timm, torch, mmfrozen
from mmcv.ops import nms
import torch
boxes = torch.tensor([[0., 0, 10, 10], [1, 1, 10, 10]]); scores = torch.tensor([.9, .8])
assert nms(boxes, scores, 0.5)[1].tolist() == [0]
print(f'torch {torch.__version__} | mmcv {mmcv.__version__} (ops ok) | mmengine {mmengine.__version__} '
      f'| mmdet {mmdet.__version__} | mmpretrain {mmpretrain.__version__} | mmfrozen {mmfrozen.__version__}')
PYEOF
"$VENV/bin/mim" --version >/dev/null
echo "$WANT" > "$STAMP"
printf '[setup %4ds] done: %s/ is ready (STACK=%s)\n' "$((SECONDS - T0))" "${VENV#"$ROOT/"}" "$STACK"

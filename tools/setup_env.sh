#!/usr/bin/env bash
# One idempotent set-up step for mmfrozen: Python venv at .venv/, PyTorch, mmcv 2.1.0 built
# from source with ops (cached by torch version and CUDA), the pinned OpenMMLab stack, openmim,
# test tools and mmfrozen itself in editable mode.
#
#   bash tools/setup_env.sh            # set up if .venv/ is missing or stale, else do nothing
#   bash tools/setup_env.sh --force    # run every step again (cached mmcv wheel still reused)
#   bash tools/setup_env.sh --check    # exit 0 if .venv/ is up to date, 1 if missing or stale
#
# Environment knobs:
#   PYTHON=python3.11        interpreter used to create the venv
#   TORCH_SPEC="torch==2.14.1 torchvision==0.29.1"
#                            what to install for PyTorch; set MMFROZEN_KEEP_TORCH=1 to keep a
#                            torch already in the venv (e.g. a CUDA build you installed yourself)
#   MMFROZEN_CACHE=~/.cache/mmfrozen   where built mmcv wheels are kept (outside the repo)
#   FORCE_CUDA=0|1           default: 1 when nvcc is on PATH and nvidia-smi sees a GPU
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.mmfrozen-setup"
PYTHON="${PYTHON:-python3.11}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}"
MMCV_VERSION=2.1.0
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
  echo "$TORCH_SPEC ${MMFROZEN_KEEP_TORCH:-0}"
}
WANT="$(fingerprint)"
if [[ $FORCE -eq 0 && -x "$PY" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  trap - EXIT
  exit 0
fi
if [[ $CHECK -eq 1 ]]; then
  trap - EXIT
  echo ".venv/ is missing or stale: run bash tools/setup_env.sh" >&2
  exit 1
fi

step "1/6 python venv at .venv/ ($PYTHON)"
command -v "$PYTHON" >/dev/null || { echo "no $PYTHON on PATH: install Python 3.11 or set PYTHON=" >&2; exit 1; }
[[ -x "$PY" ]] || "$PYTHON" -m venv "$VENV"
PIP=("$PY" -m pip --disable-pip-version-check --no-input)
rm -f "$STAMP"

step "2/6 PyTorch ($TORCH_SPEC)"
if [[ "${MMFROZEN_KEEP_TORCH:-0}" == 1 ]] && "$PY" -c 'import torch, torchvision' 2>/dev/null; then
  echo "keeping the torch already in .venv (MMFROZEN_KEEP_TORCH=1)"
else
  # shellcheck disable=SC2086
  "${PIP[@]}" install -q $TORCH_SPEC
fi
# Installing torch upgrades setuptools past pkg_resources; mmcv's setup.py needs it.
"${PIP[@]}" install -q "setuptools>=64,<70" wheel ninja
read -r TORCH_VER CUDA_TAG < <("$PY" -c 'import torch; print(torch.__version__.split("+")[0], "cu"+torch.version.cuda.replace(".","") if torch.version.cuda else "cpu")')
echo "torch $TORCH_VER, CUDA runtime tag $CUDA_TAG"

step "3/6 mmcv $MMCV_VERSION with ops (built from source, cached per torch/CUDA)"
if [[ -z "${FORCE_CUDA:-}" ]]; then
  FORCE_CUDA=0
  if command -v nvcc >/dev/null && command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then FORCE_CUDA=1; fi
fi
OPS_TAG=$([[ "$FORCE_CUDA" == 1 ]] && echo "$CUDA_TAG" || echo cpuops)
PYTAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VER-$CUDA_TAG-$OPS_TAG-$PYTAG"
have_mmcv() { "$PY" -c "import mmcv, mmcv._ext; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; }
if have_mmcv && [[ -f "$VENV/.mmcv-key" && "$(cat "$VENV/.mmcv-key")" == "$WHEEL_DIR" ]]; then
  echo "mmcv $MMCV_VERSION with ops already installed for this torch"
else
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    echo "no cached wheel in $WHEEL_DIR: building (about 7 minutes on 2 cores; FORCE_CUDA=$FORCE_CUDA)"
    BUILD="$(mktemp -d)"
    "${PIP[@]}" download -q --no-deps --no-binary :all: -d "$BUILD" "mmcv==$MMCV_VERSION"
    SRC=$(mmcv_prepare_source "$PY" "$BUILD/mmcv-$MMCV_VERSION.tar.gz" "$BUILD")
    mkdir -p "$WHEEL_DIR"
    LOG="$CACHE/mmcv-build.log"
    mkdir -p "$CACHE"
    echo "compiler output goes to $LOG"
    if ! FORCE_CUDA="$FORCE_CUDA" MAX_JOBS="${MAX_JOBS:-$(mmcv_cores)}" \
        mmcv_build_wheel "$PY" "$SRC" "$BUILD/dist" "$LOG"; then
      grep -m5 -B2 -A3 'error' "$LOG" >&2 || tail -n 40 "$LOG" >&2
      echo "mmcv build failed; full log: $LOG" >&2
      exit 1
    fi
    # copy then rename, so an interrupted set-up never leaves a truncated wheel in the cache
    for whl in "$BUILD"/dist/mmcv-*.whl; do
      cp "$whl" "$WHEEL_DIR/.$(basename "$whl").part" && mv "$WHEEL_DIR/.$(basename "$whl").part" "$WHEEL_DIR/$(basename "$whl")"
    done
    rm -rf "$BUILD"
  else
    echo "reusing cached wheel from $WHEEL_DIR"
  fi
  "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl
  echo "$WHEEL_DIR" > "$VENV/.mmcv-key"
fi

step "4/6 OpenMMLab stack, openmim and test tools (pinned in requirements/)"
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt"
"${PIP[@]}" install -q --no-deps openmim==0.3.9
"${PIP[@]}" install -q --no-deps -r "$ROOT/requirements/timm.txt"  # keeps the installed torch
"${PIP[@]}" install -q -r <(grep -v '^openmim' "$ROOT/requirements/mim.txt")
"${PIP[@]}" install -q "setuptools>=64,<70"   # re-pin: nothing above may have moved it

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
printf '[setup %4ds] done: .venv/ is ready\n' "$((SECONDS - T0))"

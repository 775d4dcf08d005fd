#!/usr/bin/env bash
# The CUDA path of mmfrozen, checked in one run on a GPU machine that has CUDA's compiler (nvcc)
# and PyTorch but no OpenMMLab package and no network:
#
#   1. installs the OpenMMLab stack from wheels carried in .whl/ (pure Python, plus the compiled
#      pycocotools/faster-coco-eval/shapely for that machine's Python) into a private folder;
#   2. builds mmcv's CUDA ops from the carried sdist for that one GPU architecture
#      (TORCH_CUDA_ARCH_LIST, all cores), measuring the build as it goes and stopping early, with
#      the figures, when it would not finish inside the time budget;
#   3. checks mmcv's nms/RoIAlign on the GPU against the CPU;
#   4. runs the tests marked `cuda` (AMP training of a frozen and a fine-tuned Faster R-CNN:
#      backbone bitwise unchanged, no frozen parameter in the optimizer; ...);
#   5. writes the training-cost table measured on the GPU (max_memory_allocated, time ratios);
#   6. measures a sweep of four Faster R-CNN R50-FPN on one frozen backbone forward against the
#      four trained separately, one member alone and the sweep's limit.
#
# Everything it writes goes to $OUT (default work_dirs/gpu_check/), seven files at most:
# gpu_check.md (what ran, how long, what failed, the cost tables), gpu_check.log (the output of
# every step), train_cost_*.json (three), and after a build mmcv_build.log and the mmcv wheel
# (reusable: MMCV_WHEEL). Exit code 0 only when every step passed; the sweep's measurement (6),
# when the budget has no 120 s left for it, is recorded as skipped with the reason instead.
#
#   bash tools/gpu_check.sh --prepare   # here, with network: fill .whl/ (wheels + mmcv sdist)
#   bash tools/gpu_check.sh             # on the GPU machine, with .whl/ next to the code
#   bash tools/gpu_check.sh --dry-run   # any machine: every step but the CUDA build and the
#                                       # CUDA runs (installs what this Python can, patches and
#                                       # counts the mmcv sources, skips the cuda tests, writes
#                                       # a tiny CPU cost table)
#
# Environment: OUT, GPU_WHEELS (default .whl), PYTHON (default python3; the dry run defaults to
# .venv/bin/python), BUDGET_S (default 570: seconds the whole run may take), MMCV_WHEEL (a
# wheel built earlier: skips step 2), COST_CONFIG (default the frozen Faster R-CNN R50-FPN 1x),
# SWEEP_CONFIG (default configs/sweeps/faster-rcnn-sweep_r50-frozen_fpn-lr4_1x_coco.py).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=tools/mmcv_build.sh
source "$ROOT/tools/mmcv_build.sh"

MODE=gpu
case "${1:-}" in
  --prepare) MODE=prepare ;;
  --dry-run|--cpu) MODE=dry ;;
  "") ;;
  *) echo "usage: bash tools/gpu_check.sh [--prepare|--dry-run]" >&2; exit 2 ;;
esac

WHEELS="${GPU_WHEELS:-$ROOT/.whl}"
OUT="${OUT:-$ROOT/work_dirs/gpu_check}"
BUDGET_S="${BUDGET_S:-$([[ $MODE == dry ]] && echo 1800 || echo 570)}"
MMCV_VERSION=2.1.0
COST_CONFIG="${COST_CONFIG:-configs/faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py}"
SWEEP_CONFIG="${SWEEP_CONFIG:-configs/sweeps/faster-rcnn-sweep_r50-frozen_fpn-lr4_1x_coco.py}"
# The GPU machine's Python and the packages to carry for it (what it lacks of the stack's needs).
TARGET_PY=3.12
CARRIED=(mmengine==0.10.7 mmdet==3.3.0 mmpretrain==1.2.0 pycocotools==2.0.11
         faster-coco-eval==1.8.0 lvis==0.5.3 shapely==2.2.0 terminaltables==3.1.10
         addict==2.4.0 yapf==0.43.0 platformdirs==4.14.8 termcolor==3.3.0 mat4py==0.6.0
         model-index==0.1.11 ordered-set==4.1.0 importlib-metadata==8.7.0
         "setuptools==69.5.1")  # setuptools < 70: mmcv's setup.py and mmengine need pkg_resources
CARRY_LIMIT_MB=64

T0=$SECONDS
elapsed() { echo $((SECONDS - T0)); }
left() { echo $((BUDGET_S - (SECONDS - T0))); }
say() { printf '[gpu_check %4ds] %s\n' "$(elapsed)" "$*"; }

# ---------------------------------------------------------------------------------------------
if [[ $MODE == prepare ]]; then
  PIP_PY="${PYTHON:-$ROOT/.venv/bin/python}"
  mkdir -p "$WHEELS"
  say "downloading ${#CARRIED[@]} wheels for CPython $TARGET_PY (manylinux x86_64) into $WHEELS"
  "$PIP_PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$TARGET_PY" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$WHEELS" "${CARRIED[@]}" \
    || exit 1
  # the sdist needs a pip whose build backend has pkg_resources (the .venv's setuptools < 70)
  "$PIP_PY" -m pip download -q --no-deps --no-binary :all: -d "$WHEELS" "mmcv==$MMCV_VERSION" \
    || exit 1
  du -sh "$WHEELS"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
mkdir -p "$OUT"
REPORT="$OUT/gpu_check.md"
LOG="$OUT/gpu_check.log"
: >"$LOG"
FAILED=()
STEP_T0=0
step() { STEP="$1"; STEP_T0=$SECONDS; say "== $1"; }
record() {  # record STATUS DETAIL
  local status="$1" detail="${2:-}"
  printf '| %s | %s | %ds | %s |\n' "$STEP" "$status" "$((SECONDS - STEP_T0))" "$detail" >>"$REPORT"
  say "$STEP: $status ${detail:+($detail)}"
  [[ $status == FAILED ]] && FAILED+=("$STEP")
}
finish() {
  {
    echo
    echo "Total: $(elapsed) s of a $BUDGET_S s budget. Failed steps: ${FAILED[*]:-none}."
    for md in "$BUILD"/train_cost_*.md; do
      [[ -s "$md" ]] && printf '\n## %s\n\n' "$(basename "$md" .md)" && cat "$md"
    done
  } >>"$REPORT"
  say "report: $REPORT"
  cat "$REPORT"
  [[ ${#FAILED[@]} -eq 0 ]]
  exit $?
}

if [[ $MODE == dry ]]; then
  PY="${PYTHON:-$ROOT/.venv/bin/python}"
else
  PY="${PYTHON:-python3}"
fi
SITE="$(mktemp -d /tmp/mmfrozen_gpu_site.XXXXXX)"
BUILD="$(mktemp -d /tmp/mmfrozen_mmcv_build.XXXXXX)"
trap 'rm -rf "$SITE" "$BUILD"' EXIT

{
  echo "# mmfrozen GPU check ($MODE run)"
  echo
  echo "Date (UTC): $(date -u '+%Y-%m-%d %H:%M'). Machine: $(uname -m), $(mmcv_cores) cores" \
       "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
  echo
  echo '| step | status | time | detail |'
  echo '|---|---|---|---|'
} >"$REPORT"

# -- 0: what this machine has -----------------------------------------------------------------
step "machine"
INFO=$("$PY" - <<'PYEOF' 2>>"$LOG"
import os, platform, torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'
cap = '.'.join(map(str, torch.cuda.get_device_capability(0))) if torch.cuda.is_available() else '-'
print(f'Python {platform.python_version()}, torch {torch.__version__} (CUDA {torch.version.cuda}), '
      f'GPU {gpu}, compute capability {cap}')
PYEOF
)
rc=$?
NVCC=$(command -v nvcc >/dev/null && nvcc --version | grep -o 'release [0-9.]*' || echo 'no nvcc')
if [[ $rc -ne 0 ]]; then
  record FAILED "$PY cannot import torch (gpu_check.log)"
  finish
fi
CAP=$(sed -n 's/.*compute capability \([0-9.]*\).*/\1/p' <<<"$INFO")
if [[ $MODE == gpu && ( -z "$CAP" || "$NVCC" == 'no nvcc' ) ]]; then
  record FAILED "$INFO; $NVCC. The GPU run needs a GPU that torch sees and nvcc on PATH; use --dry-run elsewhere"
  finish
fi
record ok "$INFO; $NVCC"

# -- 1: the carried wheels --------------------------------------------------------------------
step "install carried wheels"
CARRIED_MB=$(du -sm "$WHEELS" 2>/dev/null | cut -f1)
TREE_MB=$(du -sm --exclude=.git --exclude=.venv --exclude=work_dirs --exclude="$(basename "$WHEELS")" \
          . 2>/dev/null | cut -f1)
if [[ ! -d "$WHEELS" ]] || ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  record FAILED "no wheels in $WHEELS: run bash tools/gpu_check.sh --prepare where there is network"
  finish
fi
if (( CARRIED_MB + TREE_MB > CARRY_LIMIT_MB )); then
  record FAILED "code ($TREE_MB MB) + $WHEELS ($CARRIED_MB MB) exceed the ${CARRY_LIMIT_MB} MB that can be carried"
  finish
fi
MISSING=()
for req in "${CARRIED[@]}"; do
  name=$(sed 's/==.*//; s/-/_/g' <<<"$req")
  ls "$WHEELS" | grep -qi "^${name}-" || MISSING+=("$req")
done
if [[ ${#MISSING[@]} -gt 0 ]]; then
  record FAILED "missing in $WHEELS: ${MISSING[*]} (run --prepare again)"
  finish
fi
# only the wheels this Python can install (the dry run on another Python keeps its own compiled
# ones); --no-deps: the rest of their needs is on the machine already
mapfile -t FITS < <("$PY" - "$WHEELS" <<'PYEOF'
import glob, os, sys
from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename
ok = {str(t) for t in sys_tags()}
for w in sorted(glob.glob(os.path.join(sys.argv[1], '*.whl'))):
    if any(str(t) in ok for t in parse_wheel_filename(os.path.basename(w))[3]):
        print(w)
PYEOF
)
SKIPPED=$(( $(ls "$WHEELS"/*.whl | wc -l) - ${#FITS[@]} ))
if ! "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
    "${FITS[@]}" >>"$LOG" 2>&1; then
  record FAILED "pip install failed (gpu_check.log)"
  finish
fi
export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
VERSIONS=$("$PY" -c 'import mmengine, mmdet, mmpretrain, pycocotools, faster_coco_eval, setuptools
print(f"mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, mmpretrain {mmpretrain.__version__}, setuptools {setuptools.__version__}")' 2>&1 | tail -1)
if [[ $? -ne 0 ]]; then record FAILED "import: $VERSIONS"; finish; fi
record ok "${#FITS[@]} wheels ($CARRIED_MB MB carried, code $TREE_MB MB)$([[ $SKIPPED -gt 0 ]] && echo "; $SKIPPED built for another Python left out") -> $VERSIONS"

# -- 2: mmcv with CUDA ops for this GPU -------------------------------------------------------
step "mmcv $MMCV_VERSION CUDA ops"
SDIST=$(ls "$WHEELS"/mmcv-$MMCV_VERSION.tar.gz 2>/dev/null)
if [[ -n "${MMCV_WHEEL:-}" ]]; then
  MMCV_WHL="$MMCV_WHEEL"
  record ok "using the wheel built earlier: $MMCV_WHL"
elif [[ -z "$SDIST" ]]; then
  record FAILED "no mmcv-$MMCV_VERSION.tar.gz in $WHEELS (run --prepare)"
  finish
else
  SRC=$(mmcv_prepare_source "$PY" "$SDIST" "$BUILD" 2>"$BUILD/prepare.log") || {
    cat "$BUILD/prepare.log" >>"$LOG"
    record FAILED "unpacking/patching the sdist failed: $(tail -1 "$BUILD/prepare.log")"; finish; }
  cat "$BUILD/prepare.log" >>"$LOG"
  STD=$(grep -o 'c++[0-9]*' "$BUILD/prepare.log" | head -1)
  UNITS=$(mmcv_count_units "$SRC" 1)
  CPP_UNITS=$(mmcv_count_units "$SRC" 0)
  export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-${CAP:-<compute capability of the GPU>}}"
  export MAX_JOBS="${MAX_JOBS:-$(mmcv_cores)}"
  PLAN="$UNITS units ($CPP_UNITS C++, $((UNITS - CPP_UNITS)) CUDA), -std=$STD, TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST, MAX_JOBS=$MAX_JOBS"
  # what the steps after the build need: tests ~120 s, the cost tables ~150 s (the sweep's
  # measurement, last, runs in what is left, e.g. in a second run with MMCV_WHEEL)
  RESERVE_S="${RESERVE_S:-270}"
  BUILD_LOG="$OUT/mmcv_build.log"
  if [[ $MODE == dry ]]; then
    record "skipped (dry run)" "would build $PLAN; $(( $(left) - RESERVE_S )) s of the budget would be left for it; using this Python's mmcv"
  else
    say "building $PLAN; compiler output: $BUILD_LOG"
    FORCE_CUDA=1 mmcv_build_wheel "$PY" "$SRC" "$BUILD/dist" "$BUILD_LOG" &
    BUILD_PID=$!
    STOPPED=""
    while kill -0 "$BUILD_PID" 2>/dev/null; do
      sleep 10
      DONE=$(find "$SRC/build" -name '*.o' 2>/dev/null | wc -l)
      T=$((SECONDS - STEP_T0))
      ALLOWED=$(( $(left) - RESERVE_S + T ))  # seconds the build may take in all
      if (( DONE > 0 )); then
        PROJECTED=$(( T * UNITS / DONE ))
        say "mmcv build: $DONE of $UNITS units in $T s, about $PROJECTED s in all ($ALLOWED s allowed)"
        # judge once a first wave of units is done (the slowest come in parallel)
        if (( DONE >= MAX_JOBS && PROJECTED > ALLOWED )); then STOPPED="projected $PROJECTED s"; fi
      elif (( T > ALLOWED )); then
        STOPPED="no unit done after $T s"
      fi
      if [[ -n "$STOPPED" ]]; then
        pkill -TERM -P "$BUILD_PID" 2>/dev/null; kill "$BUILD_PID" 2>/dev/null; wait "$BUILD_PID" 2>/dev/null
        break
      fi
    done
    if [[ -n "$STOPPED" ]]; then
      record FAILED "build stopped: $STOPPED for $UNITS units ($DONE done), more than the $ALLOWED s this run has for it. Give the run more time (BUDGET_S, RESERVE_S) or build once and reuse: MMCV_WHEEL=<wheel> (the wheel of a finished build is kept in \$OUT)"
      finish
    fi
    if ! wait "$BUILD_PID"; then
      record FAILED "compiler error after $((SECONDS - STEP_T0)) s: $(grep -m1 -E 'error' "$BUILD_LOG" | cut -c1-300) (mmcv_build.log)"
      finish
    fi
    MMCV_WHL=$(ls "$BUILD"/dist/mmcv-*.whl)
    cp "$MMCV_WHL" "$OUT/" 2>/dev/null  # reusable (MMCV_WHEEL) if it fits what comes back
    record ok "built $PLAN in $((SECONDS - STEP_T0)) s"
  fi
  if [[ -n "${MMCV_WHL:-}" ]] && ! "$PY" -m pip install -q --no-index --no-deps --no-compile \
      --target "$SITE" "$MMCV_WHL" >>"$LOG" 2>&1; then
    STEP="mmcv install"; record FAILED "pip install $MMCV_WHL failed (gpu_check.log)"; finish
  fi
fi

# -- 3: the ops on the device -----------------------------------------------------------------
step "mmcv ops (nms, RoIAlign)"
DEVICE=$([[ $MODE == gpu ]] && echo cuda || echo cpu)
OPS=$("$PY" - "$DEVICE" <<'PYEOF' 2>&1
import sys
import torch
from mmcv.ops import RoIAlign, nms
dev = sys.argv[1]
g = torch.Generator().manual_seed(0)
xy = torch.rand(64, 2, generator=g) * 50
boxes = torch.cat([xy, xy + 5 + torch.rand(64, 2, generator=g) * 20], 1)
scores = torch.rand(64, generator=g)
keep_cpu = nms(boxes, scores, 0.5)[1]
keep_dev = nms(boxes.to(dev), scores.to(dev), 0.5)[1].cpu()
assert torch.equal(keep_cpu, keep_dev), (keep_cpu, keep_dev)
feats = torch.rand(2, 8, 32, 32, generator=g)
rois = torch.cat([torch.tensor([[0.], [1.]]).repeat(8, 1), boxes[:16] / 4], 1)
align = RoIAlign((7, 7), 1.0, sampling_ratio=2, aligned=True)
ref, out = align(feats, rois), align(feats.to(dev), rois.to(dev)).cpu()
err = ((out - ref).norm() / ref.norm()).item()
assert err < 1e-5, err
print(f'nms keeps the same {len(keep_cpu)} of 64 boxes on {dev} and cpu; RoIAlign relative error {err:.1e}')
PYEOF
)
if [[ $? -eq 0 ]]; then record ok "$(tail -1 <<<"$OPS")"; else record FAILED "$(tail -1 <<<"$OPS")"; finish; fi

# -- 4: the tests marked cuda -----------------------------------------------------------------
step "tests marked cuda"
TEST_LIMIT=$(( $(left) - 150 ))
if (( TEST_LIMIT < 60 )); then
  record FAILED "only $(left) s left"; finish
fi
TESTS_LOG="$BUILD/cuda_tests.log"
timeout "$TEST_LIMIT" "$PY" -m pytest -m cuda -ra -p no:cacheprovider -o addopts= tests \
  >"$TESTS_LOG" 2>&1
rc=$?
cat "$TESTS_LOG" >>"$LOG"
SUMMARY=$(grep -E '^=+ .*(passed|failed|skipped|error).* =+$' "$TESTS_LOG" | tail -1 | tr -d '=' | sed 's/^ *//')
SKIPS=$(grep -c '^SKIPPED' "$TESTS_LOG")
if [[ $MODE == dry ]]; then
  # without a GPU every cuda test must be skipped, each with its reason
  REASONS=$(grep '^SKIPPED' "$TESTS_LOG" | grep -c 'needs a CUDA GPU')
  if [[ $rc -eq 0 && $SKIPS -gt 0 && $REASONS -eq $SKIPS && "$SUMMARY" != *passed* ]]; then
    record ok "$SUMMARY, each saying: $(grep -m1 '^SKIPPED' "$TESTS_LOG" | sed 's/^SKIPPED \[[0-9]*\] [^ ]*: //')"
  else
    record FAILED "$SUMMARY ($REASONS of $SKIPS skips say why; exit $rc; gpu_check.log)"
  fi
elif [[ $rc -eq 0 && $SKIPS -eq 0 ]]; then
  record ok "$SUMMARY"
else
  record FAILED "$SUMMARY (exit $rc$([[ $rc -eq 124 ]] && echo ', timed out'); gpu_check.log)"
fi

# -- 5: the training-cost tables -------------------------------------------------------------
# The config with its fine-tuned twin and stock mmdet's frozen_stages, at the config's training
# batch and image size; FLOPs do not depend on the device (docs/train_cost.md has them). On the
# GPU once in fp32 and once under AmpOptimWrapper (mixed precision for the whole step).
# Then (6) the sweep config: its step, its limit and each member alone (docs/train_cost.md,
# "Sweeps"), in fp32 (a sweep refuses AmpOptimWrapper).
if [[ $MODE == dry ]]; then
  TINY="--device cpu --image-size 64 64 --batch-size 1 --iters 1 --warmup 0 --threads 1"
  VARIANTS=("cpu_dry_run:$COST_CONFIG:--twin --stock $TINY"
            "sweep_cpu_dry_run:$SWEEP_CONFIG:$TINY")
else
  VARIANTS=("cuda_fp32:$COST_CONFIG:--twin --stock --device cuda --iters 10 --warmup 3"
            "cuda_amp:$COST_CONFIG:--twin --stock --device cuda --iters 10 --warmup 3 --cfg-options optim_wrapper.type=AmpOptimWrapper"
            "sweep_cuda_fp32:$SWEEP_CONFIG:--device cuda --iters 10 --warmup 3")
fi
for variant in "${VARIANTS[@]}"; do
  IFS=: read -r label config flags <<<"$variant"
  name="train_cost_$label"
  read -r -a args <<<"$flags"
  step "training cost ($name)"
  COST_LIMIT=$(( $(left) - 10 ))
  if [[ $label == sweep_* ]] && (( COST_LIMIT < 120 )); then
    record "skipped (budget)" "only $(left) s left for the sweep's seven processes; run again with MMCV_WHEEL=<the wheel built here> to measure it"
    continue
  fi
  if (( COST_LIMIT < 40 )); then
    record FAILED "only $(left) s left"; continue
  fi
  timeout "$COST_LIMIT" "$PY" tools/analysis/train_cost.py "$config" \
    --no-flops "${args[@]}" --out "$OUT/$name.json" >"$BUILD/$name.md" 2>>"$LOG"
  rc=$?
  if [[ $rc -eq 0 ]]; then
    record ok "$name.json; the table is below"
  else
    record FAILED "exit $rc$([[ $rc -eq 124 ]] && echo ', timed out') ($(tail -1 "$LOG" | cut -c1-200))"
  fi
done
finish

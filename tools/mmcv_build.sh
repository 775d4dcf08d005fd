# Building mmcv 2.1.0 with its ops from the sdist: the one place that knows how.
# Sourced (not run) by tools/setup_env.sh (the wheel cached for .venv/) and tools/gpu_check.sh
# (CUDA ops for one GPU architecture on a machine without network).
#
#   source tools/mmcv_build.sh
#   src=$(mmcv_prepare_source PY SDIST DEST)   # unpack, make setup.py fit the torch of PY
#   mmcv_count_units "$src" FORCE_CUDA         # compile units the build will have
#   mmcv_build_wheel PY "$src" OUT_DIR LOG     # pip wheel, ops on; FORCE_CUDA, MAX_JOBS and
#                                              # TORCH_CUDA_ARCH_LIST come from the environment

# The -std flag the torch of PY needs: torch >= 2.10 headers refuse anything older than C++20
# ("C++20 or later compatible compiler is required to use ATen"), but mmcv 2.1.0's setup.py
# passes -std=c++17 for every torch > 1.12.
mmcv_cxx_std() {
  "$1" - <<'PYEOF'
import os, torch
inc = os.path.join(os.path.dirname(torch.__file__), 'include')
needs20 = any('C++20 or later compatible compiler is required' in open(f, errors='ignore').read()
              for f in [os.path.join(inc, 'ATen', 'ATen.h'),
                        os.path.join(inc, 'torch', 'csrc', 'api', 'include', 'torch', 'all.h')]
              if os.path.exists(f))
print('c++20' if needs20 else 'c++17')
PYEOF
}

# Unpack SDIST (mmcv-X.tar.gz) into DEST and patch its C++ standard for the torch of PY (its C++
# and nvcc flags alike). Prints the source folder on stdout, what it did on stderr.
mmcv_prepare_source() {
  local py="$1" sdist="$2" dest="$3" src std
  tar -xzf "$sdist" -C "$dest" || return 1
  src="$dest/$(basename "$sdist" .tar.gz)"
  [[ -f "$src/setup.py" ]] || { echo "no setup.py in $sdist" >&2; return 1; }
  std=$(mmcv_cxx_std "$py") || return 1
  sed -i "s/-std=c++17/-std=$std/g" "$src/setup.py"
  echo "torch headers need -std=$std: setup.py patched" >&2
  echo "$src"
}

# Number of compile units of the ops extension (the globs of mmcv's setup.py): C++ sources, plus
# the CUDA ones when FORCE_CUDA is 1.
mmcv_count_units() {
  local src="$1/mmcv/ops/csrc/pytorch" n
  n=$(find "$src" "$src/cpu" -maxdepth 1 -name '*.cpp' | wc -l)
  if [[ "$2" == 1 ]]; then
    n=$((n + $(find "$src/cuda" -maxdepth 1 \( -name '*.cu' -o -name '*.cpp' \) | wc -l)))
  fi
  echo "$n"
}

# The cores this process may use. GNU nproc also honours OMP_NUM_THREADS, which test and training
# environments often set to 1: a compiler run must not take that as its job count.
mmcv_cores() {
  env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc
}

# Build the wheel into OUT_DIR, compiler output to LOG. --no-build-isolation: otherwise pip builds
# against a fresh torch-less environment and silently skips the ops (no mmcv._ext).
mmcv_build_wheel() {
  local py="$1" src="$2" out="$3" log="$4"
  ( cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-$(mmcv_cores)}" \
      "$py" -m pip --disable-pip-version-check --no-input wheel --no-build-isolation --no-deps \
      --no-cache-dir -w "$out" . ) >"$log" 2>&1
}

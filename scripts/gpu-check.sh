#!/usr/bin/env bash
# The GPU checks in one command, for a lent GPU machine (../shared/GPU.md):
# build, differential tests on the GPU, latency against the GPU peers,
# compute-sanitizer, a short table printed last.
#
#   scripts/gpu-check.sh --fetch-deps  # here (Debian 12): the build's Debian packages into .gpu-deps/
#   scripts/gpu-check.sh               # there: results and logs into $OUT (default: ./gpu-check-out)
#   scripts/gpu-check.sh --dry-run     # what runs without a GPU: the syntax, the tools, the plan
#   scripts/gpu-check.sh --help        # this text
#   scripts/gpu-check.sh --prebuild TORCH_DIR
#                                      # here: build the two tools against TORCH_DIR (an unpacked
#                                      # wheel of the PyTorch the GPU machine has) into .gpu-prebuilt/
#
# The GPU machine has no Debian packages and cannot fetch any, so the
# libraries the build needs besides LibTorch and CUDA (protobuf and protoc,
# fmt, CLI11, nlohmann-json, OpenBLAS) travel as Debian 12 packages:
# `--fetch-deps` downloads them by name (apt-get download) into .gpu-deps/
# (ignored by git; name it in the device tool's `carry`), and the check
# unpacks them into a private prefix there (dpkg -x, never into /).
#
# Device time is short: a tree with .gpu-prebuilt/tools/cocktail-{compile,run}
# (carried, made by --prebuild against the same PyTorch wheel) skips the
# build there, and builds after all if they do not start.
#
# Steps (COCKTAIL_GPU_CHECK_SECONDS, default 480, bounds the whole; each
# step gets what is left):
#  1. Build cocktail-compile and cocktail-run, without the server or tests,
#     against the machine's pip PyTorch (torch.utils.cmake_prefix_path), in
#     build-gpu/.
#  2. Export the suite at batch 1 (bench/models/export.py), compile each model
#     with --target cuda for this GPU's arch, run it with cocktail-run
#     --device cuda and compare with the TorchScript model on CUDA: relative
#     error < 1e-4 (scripts/gpu_check.py diff).
#  2b. Gathers and device errors (scripts/gpu_check.py checks): the tree
#     corpus model (index, index_select, gather) against TorchScript, and an
#     index out of range and a `raise` in a persistent loop reported as the
#     op's error, not a hang.
#  2c. The server on KIND_GPU (scripts/gpu_check.py serve): one suite model
#     (COCKTAIL_SERVE_MODEL, default attention, compiled by step 2) served by
#     cocktail-serve on `instance_group { kind: KIND_GPU }` and on KIND_CPU,
#     one HTTP request each, the GPU's answer compared with the CPU's and
#     TorchScript's, and the GPU's nv_gpu_memory_total_bytes in /metrics. Needs a cocktail-serve: the build here has no server (no
#     gRPC on the GPU machine), so one carried in .gpu-prebuilt/tools/ is
#     used; without it the step is skipped and says so.
#  3. Time Cocktail against TorchScript and PyTorch eager on CUDA, JAX on the
#     GPU and torch.compile (scripts/gpu_check.py bench): $OUT/results.{json,md,png}.
#     COCKTAIL_BENCH=0 skips this step.
#  4. compute-sanitizer memcheck and racecheck on the models in
#     COCKTAIL_SANITIZE (default lstm,blockdrop), each under an equal share
#     of the time left.
#
# Exit status: 0 when every model matches, the checks pass, the served model
# answers as on the CPU (or the step was skipped) and the sanitizer found
# nothing; else the differential tests' status, the checks' status, the
# serving step's, or 3 for a sanitizer error.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DEPS_DEBS=$REPO/.gpu-deps
DEBIAN_PACKAGES=(libprotobuf-dev libprotobuf32 protobuf-compiler libprotoc32 libfmt-dev libfmt9 zlib1g-dev zlib1g
                 nlohmann-json3-dev libcli11-dev libopenblas-dev libopenblas-pthread-dev libopenblas0-pthread
                 libgfortran5 libquadmath0)

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,/^set -uo pipefail/p' "$0" | sed '$d; s/^# \{0,1\}//'   # this header
  exit 0
fi
if [[ -n ${1:-} && ! ${1:-} =~ ^--(fetch-deps|prebuild|dry-run)$ ]]; then
  echo "gpu-check: unknown option '$1' (see --help)" >&2
  exit 2
fi

# Unpacks the carried Debian packages into a private prefix (dpkg -x, never
# into /) and sets DEPS, DEPS_CMAKE_FLAGS and LD_LIBRARY_PATH (protoc runs at
# build time) for a build against them.
unpack_deps() {
  ls "$DEPS_DEBS"/*.deb >/dev/null 2>&1 || return 1
  DEPS=/tmp/cocktail-deps
  local deb libdir=$DEPS/usr/lib/x86_64-linux-gnu
  for deb in "$DEPS_DEBS"/*.deb; do dpkg -x "$deb" "$DEPS" || { echo "gpu-check: dpkg -x $deb failed" >&2; exit 1; }; done
  export LD_LIBRARY_PATH=$libdir:$libdir/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  # Debian reaches OpenBLAS through alternatives (symlinks in /etc), which dpkg -x does not make.
  DEPS_CMAKE_FLAGS=(-DCMAKE_LIBRARY_PATH="$libdir/openblas-pthread" -DProtobuf_PROTOC_EXECUTABLE="$DEPS/usr/bin/protoc"
                    -DCMAKE_CXX_FLAGS="-isystem $DEPS/usr/include/x86_64-linux-gnu/openblas-pthread")
}

if [[ ${1:-} == --fetch-deps ]]; then
  mkdir -p "$DEPS_DEBS" && cd "$DEPS_DEBS" && rm -f ./*.deb
  apt-get download "${DEBIAN_PACKAGES[@]}" || { echo "gpu-check: apt-get download failed" >&2; exit 1; }
  echo "gpu-check: $(ls ./*.deb | wc -l) packages, $(du -sh . | cut -f1), in $DEPS_DEBS"
  exit 0
fi

if [[ ${1:-} == --prebuild ]]; then
  TORCH_DIR=${2:?--prebuild TORCH_DIR: the torch folder of an unpacked PyTorch wheel}
  [[ -f $TORCH_DIR/version.py && -d $TORCH_DIR/share/cmake ]] \
    || { echo "gpu-check: --prebuild $TORCH_DIR: not the torch folder of an unpacked wheel" >&2; exit 1; }
  unpack_deps || { echo "gpu-check: no packages in $DEPS_DEBS: run --fetch-deps first" >&2; exit 1; }
  # The wheel's CUDA libraries (cuSPARSELt, NVSHMEM, ...) are not here: the link leaves them to the GPU machine.
  cmake -S . -B build-gpu-prebuild -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$TORCH_DIR/share/cmake;$DEPS/usr" -DTORCH_LIBRARY="$TORCH_DIR/lib/libtorch.so" \
    -Dc10_LIBRARY="$TORCH_DIR/lib/libc10.so" "${DEPS_CMAKE_FLAGS[@]}" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined" \
    -DCOCKTAIL_ENABLE_SERVER=OFF -DCOCKTAIL_ENABLE_CUDA=ON -DCOCKTAIL_BUILD_TESTS=OFF >/dev/null || exit 1
  cmake --build build-gpu-prebuild --target cocktail-compile cocktail-run || exit 1
  mkdir -p .gpu-prebuilt/tools && cp build-gpu-prebuild/tools/cocktail-{compile,run} .gpu-prebuilt/tools/
  # The tools fit only the very PyTorch they were built against: the check compares.
  sed -n "s/^__version__ = '\(.*\)'$/\1/p" "$TORCH_DIR/version.py" >.gpu-prebuilt/torch-version
  echo "gpu-check: .gpu-prebuilt/tools/ holds cocktail-compile and cocktail-run for torch $(cat .gpu-prebuilt/torch-version)"
  exit 0
fi

# Logs and the exported models are written to a scratch folder; what comes back
# ($OUT, kept small for the device tool) is the results, the log, and the
# other logs and resource reports in one archive, even when a step fails.
FINAL_OUT=${OUT:-$REPO/gpu-check-out}
OUT=$(mktemp -d /tmp/gpu-check.XXXXXX)
mkdir -p "$FINAL_OUT"
finish() {
  cp -f "$OUT"/results.md "$OUT"/results.json "$OUT"/results.png "$OUT"/gpu-check.log "$FINAL_OUT"/ 2>/dev/null
  tar czf "$FINAL_OUT/logs.tar.gz" -C "$OUT" --exclude='*.pt' --exclude='*.cocktail' . 2>/dev/null
}
trap finish EXIT
DRY=0
[[ ${1:-} == --dry-run ]] && DRY=1
PY=${PYTHON:-python3}
BUILD=$REPO/build-gpu
MODELS=${COCKTAIL_MODELS:-lstm,nasrnn,attention,seq2seq,blockdrop,skipnet,rae}
SANITIZE=${COCKTAIL_SANITIZE:-lstm,blockdrop}
DEADLINE=$(( $(date +%s) + ${COCKTAIL_GPU_CHECK_SECONDS:-480} ))
mkdir -p "$OUT"
log() { echo "[gpu-check $(date +%H:%M:%S)] $*" | tee -a "$OUT/gpu-check.log"; }
die() { log "FAILED: $*"; exit 1; }
left() { echo $(( DEADLINE - $(date +%s) )); }

for tool in cmake "$PY"; do command -v "$tool" >/dev/null || die "$tool is not on PATH"; done
if [[ $DRY == 1 ]]; then
  log "dry run: tools found; would build in $BUILD, run $MODELS, write to $FINAL_OUT"
  ls "$DEPS_DEBS"/*.deb >/dev/null 2>&1 || log "no packages in $DEPS_DEBS: run --fetch-deps first"
  "$PY" -m py_compile scripts/gpu_check.py && log "scripts/gpu_check.py compiles"
  exit 0
fi
command -v nvidia-smi >/dev/null && nvidia-smi -L | tee -a "$OUT/gpu-check.log" || die "no nvidia-smi: not a GPU machine"

# ---- 1. build -------------------------------------------------------------------------------
PREFIXES=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
DEPS_CMAKE_FLAGS=()
if unpack_deps; then
  PREFIXES="$PREFIXES;$DEPS/usr"
  log "Debian packages unpacked into $DEPS"
fi
# Where the prebuilt tools find LibTorch, its CUDA libraries and the toolkit's runtime and NVRTC.
LIB_PATH=$("$PY" - <<'PYEOF'
import glob, os, torch
site = os.path.dirname(os.path.dirname(torch.__file__))
dirs = [os.path.join(os.path.dirname(torch.__file__), "lib")]
dirs += sorted({os.path.dirname(p) for p in glob.glob(os.path.join(site, "nvidia", "**", "lib*.so*"), recursive=True)})
print(":".join(dirs))
PYEOF
)
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$LIB_PATH:$(dirname "$(dirname "$NVCC")")/lib64
THERE_TORCH=$("$PY" -c 'import torch; print(torch.__version__)')
PREBUILT_TORCH=$(cat "$REPO/.gpu-prebuilt/torch-version" 2>/dev/null)
if [[ -x $REPO/.gpu-prebuilt/tools/cocktail-run && $PREBUILT_TORCH != "$THERE_TORCH" ]]; then
  log "the prebuilt tools are for torch '$PREBUILT_TORCH', this machine has $THERE_TORCH: building"
elif [[ -x $REPO/.gpu-prebuilt/tools/cocktail-run ]]; then
  if "$REPO/.gpu-prebuilt/tools/cocktail-run" --help >/dev/null 2>"$OUT/prebuilt.log" \
     && "$REPO/.gpu-prebuilt/tools/cocktail-compile" --help >/dev/null 2>>"$OUT/prebuilt.log"; then
    BUILD=$REPO/.gpu-prebuilt
    log "using the prebuilt tools in $BUILD"
  else
    log "the prebuilt tools do not start ($(head -c 300 "$OUT/prebuilt.log")); building"
    ldd "$REPO/.gpu-prebuilt/tools/cocktail-run" | grep "not found" | tee -a "$OUT/gpu-check.log"
  fi
fi
if [[ $BUILD != $REPO/.gpu-prebuilt ]]; then
  log "building against $PREFIXES"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIXES" "${DEPS_CMAKE_FLAGS[@]}" \
    -DCOCKTAIL_ENABLE_SERVER=OFF -DCOCKTAIL_ENABLE_CUDA=ON -DCOCKTAIL_BUILD_TESTS=OFF >"$OUT/configure.log" 2>&1 \
    || { tail -30 "$OUT/configure.log"; die "configure; see $OUT/configure.log"; }
  cmake --build "$BUILD" -j "$(nproc)" --target cocktail-compile cocktail-run >"$OUT/build.log" 2>&1 \
    || { grep -m 20 -B2 -A8 "error" "$OUT/build.log"; die "build; see $OUT/build.log"; }
  log "built ($(left) s left)"
fi

# ---- 2. differential tests on the GPU -------------------------------------------------------
ARCH=$("$PY" -c 'import torch; m, n = torch.cuda.get_device_capability(); print(f"sm_{m}{n}")') \
  || die "PyTorch sees no CUDA device"
log "differential tests on $ARCH"
timeout "$(left)" "$PY" scripts/gpu_check.py --build "$BUILD" --out "$OUT" --models "$MODELS" --arch "$ARCH" \
  --device cuda diff 2>&1 | tee "$OUT/diff.log"
DIFF_RC=${PIPESTATUS[0]}
log "differential tests: exit $DIFF_RC ($(left) s left)"

# ---- 2b. gathers and the device error word --------------------------------------------------
log "gathers and device errors on $ARCH"
timeout "$(left)" "$PY" scripts/gpu_check.py --build "$BUILD" --out "$OUT" --arch "$ARCH" --device cuda checks \
  2>&1 | tee "$OUT/checks.log"
CHECKS_RC=${PIPESTATUS[0]}
log "checks: exit $CHECKS_RC ($(left) s left)"

# ---- 2c. the server on KIND_GPU -------------------------------------------------------------
SERVE_RC=0
SERVE_MODEL=${COCKTAIL_SERVE_MODEL:-attention}
[[ ,$MODELS, == *,$SERVE_MODEL,* ]] || SERVE_MODEL=${MODELS%%,*}
SERVE=""
for candidate in "$BUILD/server/cocktail-serve" "$REPO/.gpu-prebuilt/tools/cocktail-serve"; do
  [[ -x $candidate ]] && { SERVE=$candidate; break; }
done
if [[ -z $SERVE ]]; then
  log "serve on KIND_GPU: skipped: no cocktail-serve (built without the server here, no gRPC; carry one in .gpu-prebuilt/tools/)"
elif ! "$SERVE" --help >/dev/null 2>"$OUT/serve-start.log"; then
  log "serve on KIND_GPU: skipped: $SERVE does not start ($(head -c 300 "$OUT/serve-start.log"))"
else
  log "serving $SERVE_MODEL on KIND_GPU with $SERVE"
  timeout "$(left)" "$PY" scripts/gpu_check.py --build "$BUILD" --out "$OUT" --models "$SERVE_MODEL" --device cuda \
    --serve "$SERVE" serve 2>&1 | tee "$OUT/serve.txt"
  SERVE_RC=${PIPESTATUS[0]}
  log "serve: exit $SERVE_RC ($(left) s left)"
fi

# ---- 3. latency against the GPU peers ------------------------------------------------------
if [[ ${COCKTAIL_BENCH:-1} == 1 ]]; then
  BENCH_DEADLINE=$(( DEADLINE - 60 ))   # a minute kept for the sanitizer
  "$PY" scripts/gpu_check.py --build "$BUILD" --out "$OUT" --models "$MODELS" --arch "$ARCH" --device cuda \
    --deadline "$BENCH_DEADLINE" bench 2>&1 | tee "$OUT/bench.log"
fi

# ---- 4. compute-sanitizer -------------------------------------------------------------------
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
: >"$OUT/sanitizer.txt"
RUNS=$(( 2 * $(tr ',' '\n' <<<"$SANITIZE" | grep -c .) ))
for tool in memcheck racecheck; do
  for m in ${SANITIZE//,/ }; do
    budget=$(( $(left) / RUNS )); RUNS=$(( RUNS - 1 ))
    (( budget < 5 )) && { echo "$tool $m not run: out of time" >>"$OUT/sanitizer.txt"; continue; }
    timeout "$budget" "$SAN" --tool "$tool" --error-exitcode 1 "$BUILD/tools/cocktail-run" "$OUT/work/$m.cocktail" \
      --inputs "$OUT/work/$m.b1.inputs.pt" --device cuda -q >"$OUT/sanitizer-$tool-$m.log" 2>&1
    rc=$?
    case $rc in
      0) echo "$tool $m ok" ;; 124) echo "$tool $m timed out after $budget s" ;; *) echo "$tool $m FAILED (exit $rc)" ;;
    esac >>"$OUT/sanitizer.txt"
  done
done

log "differential tests exit $DIFF_RC; checks exit $CHECKS_RC; serve exit $SERVE_RC; sanitizer: $(tr '\n' ';' <"$OUT/sanitizer.txt")"
grep -h "max rel error\|failed" "$OUT/diff.log"
grep -h ": ok\|FAILED\|no answer" "$OUT/checks.log"
grep -h "^serve" "$OUT/serve.txt" 2>/dev/null
cat "$OUT/results.md" 2>/dev/null
# Fails when a model differs or the sanitizer found an error (not when it ran out of time).
(( DIFF_RC != 0 )) && exit "$DIFF_RC"
(( CHECKS_RC != 0 )) && exit "$CHECKS_RC"
(( SERVE_RC != 0 )) && exit "$SERVE_RC"
grep -q FAILED "$OUT/sanitizer.txt" && exit 3
exit 0

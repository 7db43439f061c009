#!/usr/bin/env bash
# The GPU checks of issue 5, in one command, for a lent GPU machine
# (../shared/GPU.md): build, differential tests on the GPU, compute-sanitizer,
# latency against the GPU peers, a short table printed last.
#
#   scripts/gpu-check.sh            # logs and results under $OUT (default: ./gpu-check-out)
#   scripts/gpu-check.sh --dry-run  # what runs here without a GPU: the syntax, the tools, the plan
#
# NOT YET RUN ON A GPU. No session so far has had a GPU machine; this script
# has only been checked with `bash -n`, and its Python part (gpu_check.py)
# with --device cpu on a machine without a GPU. Expect to fix it on first use.
#
# Steps:
#  1. Build the core, the CLI and the CUDA runtime, without the server,
#     against the machine's pip PyTorch (torch.utils.cmake_prefix_path), in
#     build-gpu/. The artifact format needs the protobuf C++ library; GPU.md
#     says the machine may not have it: the script stops with that message.
#  2. Export the suite at batch 1 (bench/models/export.py), compile each
#     model with --target cuda for this GPU's arch, run it with
#     cocktail-run --device cuda and compare with the TorchScript model run
#     by PyTorch on CUDA: relative error < 1e-4 (scripts/gpu_check.py).
#  3. Run every model once under compute-sanitizer, memcheck and racecheck.
#  4. Time Cocktail (cocktail-run --repeat) against PyTorch eager CUDA,
#     TorchScript on CUDA and torch.compile (CUDA events, after warm-up,
#     median), and print the table last. Results: $OUT/results.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
OUT=${OUT:-$REPO/gpu-check-out}
DRY=0
[[ ${1:-} == --dry-run ]] && DRY=1
PY=${PYTHON:-python3}
BUILD=$REPO/build-gpu
MODELS=${COCKTAIL_MODELS:-lstm,nasrnn,attention,seq2seq,blockdrop,skipnet,rae}
mkdir -p "$OUT"
log() { echo "[gpu-check $(date +%H:%M:%S)] $*" | tee -a "$OUT/gpu-check.log"; }
die() { log "FAILED: $*"; exit 1; }

for tool in cmake "$PY"; do command -v "$tool" >/dev/null || die "$tool is not on PATH"; done
if [[ $DRY == 1 ]]; then
  log "dry run: tools found; would build in $BUILD, run $MODELS, write to $OUT"
  "$PY" -m py_compile scripts/gpu_check.py && log "scripts/gpu_check.py compiles"
  exit 0
fi
command -v nvidia-smi >/dev/null && nvidia-smi -L | tee -a "$OUT/gpu-check.log" || die "no nvidia-smi: not a GPU machine"

# ---- 1. build -------------------------------------------------------------------------------
TORCH_PREFIX=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
log "building against $TORCH_PREFIX"
if ! cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
     -DCOCKTAIL_ENABLE_SERVER=OFF -DCOCKTAIL_ENABLE_CUDA=ON -DCOCKTAIL_BUILD_TESTS=OFF >"$OUT/configure.log" 2>&1; then
  grep -qi protobuf "$OUT/configure.log" && die "configure: no protobuf C++ library here (the artifact format needs it); see $OUT/configure.log"
  die "configure; see $OUT/configure.log"
fi
cmake --build "$BUILD" -j "$(nproc)" --target cocktail-compile cocktail-run >"$OUT/build.log" 2>&1 || die "build; see $OUT/build.log"

# ---- 2. differential tests on the GPU -------------------------------------------------------
ARCH=$("$PY" -c 'import torch; m, n = torch.cuda.get_device_capability(); print(f"sm_{m}{n}")')
log "differential tests on $ARCH"
"$PY" scripts/gpu_check.py --build "$BUILD" --out "$OUT" --models "$MODELS" --arch "$ARCH" --device cuda \
  diff 2>&1 | tee "$OUT/diff.log" || die "differential tests; see $OUT/diff.log"

# ---- 3. compute-sanitizer -------------------------------------------------------------------
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
for tool in memcheck racecheck; do
  for m in ${MODELS//,/ }; do
    log "compute-sanitizer --tool $tool: $m"
    "$SAN" --tool "$tool" --error-exitcode 1 "$BUILD/tools/cocktail-run" "$OUT/work/$m.cocktail" \
      --inputs "$OUT/work/$m.b1.inputs.pt" --device cuda -q >"$OUT/sanitizer-$tool-$m.log" 2>&1 \
      && echo "$tool $m ok" >>"$OUT/sanitizer.txt" || echo "$tool $m FAILED" >>"$OUT/sanitizer.txt"
  done
done

# ---- 4. latency against the GPU peers, the table last ----------------------------------------
"$PY" scripts/gpu_check.py --build "$BUILD" --out "$OUT" --models "$MODELS" --arch "$ARCH" --device cuda \
  bench 2>&1 | tee "$OUT/bench.log" || die "bench; see $OUT/bench.log"
log "sanitizer: $(grep -c ok "$OUT/sanitizer.txt") ok, $(grep -c FAILED "$OUT/sanitizer.txt" || true) failed (logs in $OUT)"
cat "$OUT/results.md"

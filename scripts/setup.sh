#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for Cocktail, builds it, and runs the main
# job on an example model: the 10-layer LSTM of the suite is exported from
# PyTorch, compiled with cocktail-compile and run with cocktail-run against
# the TorchScript interpreter.
#
#   scripts/setup.sh              # packages, build, example
#   scripts/setup.sh --deps-only  # packages only (what CI needs before scripts/test.sh)
#
# Run as root (or with sudo available). Everything comes from Debian's
# packages by name; nothing prebuilt is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in other folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

DEPS_ONLY=0
[[ "${1:-}" == "--deps-only" ]] && DEPS_ONLY=1

# Every package has a reason; scripts/gpu-check.sh --fetch-deps carries a subset
# of these to a GPU machine (its DEBIAN_PACKAGES).
PACKAGES=(
  # the build: compilers, CMake + Ninja, ccache for rebuilds; pkg-config is how
  # CMake's FindBLAS and gRPC's Findre2 look for their libraries
  build-essential cmake ninja-build ccache pkg-config
  # LibTorch 1.13 (frontend, runtime boundary, TorchScript reference) and the
  # Python that matches it (tests, bench/models/export.py, the cocktail package)
  libtorch-dev python3-torch
  # the compiler's libraries: CLI, logging, JSON, the artifact's checksum (zlib)
  # and protobuf, BLAS
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev zlib1g-dev
  protobuf-compiler libprotobuf-dev libopenblas-dev
  # cocktail-serve: gRPC (KServe v2 / Triton protocol) and Prometheus metrics
  libgrpc++-dev protobuf-compiler-grpc prometheus-cpp-dev
  # cocktail-serve's HTTP/REST front end and its /metrics endpoint: cpp-httplib
  # (a maintained HTTP/1.1 server with body limits, timeouts and a thread pool)
  libcpp-httplib-dev
  # tests: gtest/gmock, FileCheck (the IR tests), pytest and numpy (e2e),
  # torchvision and torchaudio (users' models: the coverage corpus), Graphviz
  # (renders --emit dot: the test that it is valid, the README's drawing)
  libgtest-dev libgmock-dev llvm-14-tools python3-pytest python3-numpy
  python3-torchvision python3-torchaudio graphviz
  # curl: tests/server/test_http.py runs docs/serving.md's curl examples
  curl
  # venvs for PyPI-only peers and clients (tritonclient in tests/server,
  # ONNX Runtime and JAX in bench/run, perf_analyzer in bench/serve, which
  # also needs libb64), charts (bench/run, scripts/gpu_check.py)
  python3-venv libb64-0d python3-matplotlib
  # the fuzz targets (tests/fuzz, the `fuzz` preset): clang with libFuzzer and
  # its ASan/UBSan runtimes, which clang-14 only recommends. The asan and tsan
  # presets use gcc's sanitizer runtimes, which build-essential brings.
  clang-14 libclang-rt-14-dev
  # scripts/format-changed.sh (.clang-format) and scripts/tidy.sh (.clang-tidy,
  # which CI runs over ir/, passes/ and runtime/)
  clang-format-14 clang-tidy-14
  # bench/cpp/conv-block-bench compares Cocktail's convolutions with oneDNN's;
  # optional: configure skips it (and says so) where oneDNN is absent
  libdnnl-dev
)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi
((DEPS_ONLY)) && exit 0

echo "setup: configuring and building (build/)"
cmake --preset default >/dev/null
cmake --build --preset default

# `import cocktail` for Debian's python3: a .pth file puts build/python on its path.
SITE=$(/usr/bin/python3 -c 'import site; print(next(p for p in site.getsitepackages() if p.startswith("/usr/local")))')
echo "$PWD/build/python" | $SUDO tee "$SITE/cocktail.pth" >/dev/null
echo "setup: /usr/bin/python3 can now import cocktail (from $PWD/build/python)"

echo "setup: the example: the suite's LSTM (10 layers, hidden 256, 64 steps)"
EX=build/example
mkdir -p "$EX"
/usr/bin/python3 bench/models/export.py --out "$EX" --models lstm --batch 1 >/dev/null
mapfile -t SPECS < "$EX/lstm.b1.spec"
INPUT_ARGS=()
for s in "${SPECS[@]}"; do INPUT_ARGS+=(--input "$s"); done
build/tools/cocktail-compile "$EX/lstm.pt" -o "$EX/lstm.cocktail" "${INPUT_ARGS[@]}" --strict
build/tools/cocktail-run "$EX/lstm.cocktail" --inputs "$EX/lstm.b1.inputs.pt" --outputs "$EX/lstm.out.pt" \
  --reference "$EX/lstm.pt" --repeat 5
echo "setup: done. Run every test with scripts/test.sh"

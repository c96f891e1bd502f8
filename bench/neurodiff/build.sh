#!/bin/bash
# Builds NeuroDiff (github pauls658/NeuroDiff-ASE2020-Artifact) OUTSIDE the project, one thread, on Debian's
# OpenBLAS (apt-get install libopenblas-dev), as full NeuroDiff (make lineqall extravarssym all), plus nd_probe
# (our own few lines: NeuroDiff's reading of a property box and its forward pass at points, to check that both
# tools see the same networks and boxes).
# usage: bash bench/neurodiff/build.sh SRC_DIR [BARE_GIT_DIR]
#   with BARE_GIT_DIR (a bare clone of the artifact) SRC_DIR is filled from it first, file by file, so that blobs
#   missing from a partial clone (large MNIST files, the OpenBLAS zip: not needed for ACAS Xu) are only skipped.
# MAX_THREAD is left undefined: split.c then defaults it to -1 and never starts a thread; delta_network_test calls
# openblas_set_num_threads(1) itself, and OPENBLAS_NUM_THREADS=1 is set when it runs. -fcommon: the artifact defines
# `lock` in several objects (tentative definitions), which GCC >= 10 refuses to link without it.
set -euo pipefail
src=${1:?usage: build.sh SRC_DIR [BARE_GIT_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
if [[ -n "${2:-}" ]]; then
  mkdir -p "$src"
  git --git-dir="$2" ls-tree -r HEAD | while read -r _mode _type sha path; do
    mkdir -p "$src/$(dirname "$path")"
    git --git-dir="$2" cat-file blob "$sha" > "$src/$path" 2>/dev/null || { echo "skipped (blob absent): $path"; rm -f "$src/$path"; }
  done
fi
cd "$src/DiffNN-Code"
CFLAGS=-fcommon make clean lineqall extravarssym all 2>&1 | grep -E '^gcc|error' || true
test -x delta_network_test
mkdir -p ../probe
gcc -fcommon -O2 -I. -o ../probe/nd_probe "$here/nd_probe.c" matrix.o interval.o nnet.o split.o -lopenblas -lpthread -lm
echo "built $src/DiffNN-Code/delta_network_test and $src/probe/nd_probe"

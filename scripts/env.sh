# Sourced by the other scripts: puts a CUDA toolkit installed outside PATH on PATH, so that CMake
# finds nvcc where the machine has one (CI and GPU machines keep it in /usr/local/cuda).
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="$PATH:/usr/local/cuda/bin"
fi
ZIPSERV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ZIPSERV_BUILD="${ZIPSERV_BUILD:-$ZIPSERV_ROOT/build}"
ZIPSERV_JOBS="${ZIPSERV_JOBS:-$(nproc)}"

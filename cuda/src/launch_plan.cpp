// Host-side launch decisions of the CUDA kernels (see launch_plan.h). Plain C++: no CUDA here.
#include "zipserv/cuda/launch_plan.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::cuda {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

[[noreturn]] void reject(const std::string& what) { throw std::invalid_argument("zipserv::cuda: " + what); }

}  // namespace

GridShape gemm_grid(int64_t m, int64_t n, int split_k) {
  const int64_t tile_n = choose_tile_n(n);
  return GridShape{ceil_div(n, tile_n), std::min(ceil_div(m, kTileM), kMaxGridY), split_k};
}

GridShape decode_grid(int64_t m, int64_t k) {
  return GridShape{std::min(ceil_div(k, kTileK), kMaxGridY), std::min(ceil_div(m, kTileM), kMaxGridY), 1};
}

int choose_split_k(int64_t m, int64_t k, int64_t n, int sm_count) {
  if (m <= 0 || k <= 0 || n <= 0) reject("choose_split_k needs a positive shape");
  const int64_t block_cols = ceil_div(k, kTileK);
  const int64_t blocks = ceil_div(m, kTileM) * ceil_div(n, choose_tile_n(n));
  const int64_t sms = std::max(sm_count, 1);
  if (blocks >= sms) return 1;
  // Two resident blocks per SM hide one block's cp.async latency behind the other's decode.
  int64_t splits = ceil_div(2 * sms, blocks);
  constexpr int64_t kMinStepsPerSplit = 4;  // below this the pipeline prologue and the FP32
                                            // partial traffic cost more than the extra blocks earn
  splits = std::min(splits, std::max<int64_t>(1, block_cols / kMinStepsPerSplit));
  splits = std::min<int64_t>(splits, kMaxSplitK);
  splits = std::min(splits, block_cols);
  return static_cast<int>(std::max<int64_t>(splits, 1));
}

void validate_gemm_launch(int64_t m, int64_t k, const void* x, int64_t n, int split_k) {
  if (m <= 0 || k <= 0) reject("weight shape " + std::to_string(m) + "x" + std::to_string(k) + " is not positive");
  if (n <= 0) reject("n (columns of X, tokens) must be positive, got " + std::to_string(n));
  if (n > std::numeric_limits<int32_t>::max()) reject("n = " + std::to_string(n) + " exceeds 2^31 - 1");
  const int64_t mp = pad_to_block_tile(m), kp = pad_to_block_tile(k);
  if (mp > kMaxPaddedElements / kp)
    reject("weight shape " + std::to_string(m) + "x" + std::to_string(k) + " exceeds 2^31 padded elements");
  if (x == nullptr) reject("x (activations) is a null pointer");
  const int64_t limit = std::min<int64_t>(kp / kTileK, kMaxSplitK);
  if (split_k < 1 || split_k > limit)
    reject("split_k = " + std::to_string(split_k) + " is outside [1, " + std::to_string(limit) +
           "] (K/64 = " + std::to_string(kp / kTileK) + " block tiles, at most " + std::to_string(kMaxSplitK) + ")");
}

size_t split_k_workspace_bytes(int64_t m, int64_t n, int split_k) {
  if (split_k <= 1) return 0;
  return static_cast<size_t>(split_k) * static_cast<size_t>(n) * static_cast<size_t>(m) * sizeof(float);
}

}  // namespace zipserv::cuda

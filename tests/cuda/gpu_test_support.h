/*! \file gpu_test_support.h
 *  \brief Helpers of the kernel tests: the fixture that runs every test on both backends (the
 *         GPU, skipped visibly without one, and cuda-sim, which runs everywhere), device buffers
 *         with guard bands (sentinel bytes on both sides, checked byte-identical after every
 *         launch), and the error bound for GEMMs on real-valued inputs, stated next to its reason.
 */
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/device_matrix.h"
#include "zipserv/cuda/zipgemm.h"

namespace zipserv::cuda::test {

/// True when ZIPSERV_REQUIRE_GPU=1: the run is a GPU check, so a missing device or a CUDA error
/// must fail every GPU test instead of skipping it (cuda/run_gpu_checks.sh sets it).
inline bool gpu_required() {
  const char* v = std::getenv("ZIPSERV_REQUIRE_GPU");
  return v != nullptr && std::string(v) == "1";
}

/// Under ZIPSERV_REQUIRE_GPU=1, fails the whole test program (so every test ctest runs from it)
/// before any test starts, with the CUDA error's text, unless a device answers. It exits at once:
/// gtest would still run the tests after a failed environment, and their GTEST_SKIP would make
/// ctest report them as skipped, not failed.
class RequireGpuEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!gpu_required()) return;
    const BackendScope gpu(Backend::gpu());
    const std::string why = unavailable_reason();
    if (why.empty()) return;
    std::printf("ZIPSERV_REQUIRE_GPU=1: FAILED, %s\n", why.c_str());
    std::exit(1);
  }
};
inline const bool kRequireGpuEnvironmentAdded = (::testing::AddGlobalTestEnvironment(new RequireGpuEnvironment), true);

/// A test that runs once on the GPU (instance `/gpu`, ctest labels `cuda;gpu`, skipped visibly
/// without a device) and once on cuda-sim (instance `/sim`, runs on every machine). The body
/// uses the host API as usual: the fixture makes the instance's backend current.
class OnBothBackends : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    scope_.emplace(GetParam() == BackendKind::gpu ? Backend::gpu() : Backend::cuda_sim());
    if (!device_available()) {
      if (gpu_required()) FAIL() << "ZIPSERV_REQUIRE_GPU=1: " << unavailable_reason();
      GTEST_SKIP() << "no CUDA device (the /sim instance of this test runs the same kernel)";
    }
  }
  /// True on cuda-sim, whose CPU time limits the largest shapes a test may use.
  bool on_simulator() const { return GetParam() == BackendKind::simulator; }

 private:
  std::optional<BackendScope> scope_;
};

/// "gpu" or "sim": the instance name of each backend.
inline std::string backend_instance_name(const ::testing::TestParamInfo<BackendKind>& info) {
  return info.param == BackendKind::gpu ? "gpu" : "sim";
}

/// Instantiates every TEST_P of `suite` on both backends.
#define ZIPSERV_ON_BOTH_BACKENDS(suite)                                                                  \
  INSTANTIATE_TEST_SUITE_P(, suite, ::testing::Values(BackendKind::gpu, BackendKind::simulator),        \
                           ::zipserv::cuda::test::backend_instance_name)

/// `count` elements of T in device memory with kGuardBytes of sentinel before and after, and the
/// interior poisoned with `poison` bytes (so unwritten outputs show).
template <typename T>
class GuardedBuffer {
 public:
  static constexpr size_t kGuardBytes = 4096;
  static constexpr uint8_t kSentinel = 0xA5;

  explicit GuardedBuffer(size_t count, uint8_t poison = 0xFF)
      : count_(count), alloc_(count * sizeof(T) + 2 * kGuardBytes) {
    auto* base = static_cast<uint8_t*>(alloc_.get());
    fill_device(base, kSentinel, kGuardBytes);
    fill_device(base + kGuardBytes, poison, count * sizeof(T));
    fill_device(base + kGuardBytes + count * sizeof(T), kSentinel, kGuardBytes);
  }
  T* data() { return reinterpret_cast<T*>(static_cast<uint8_t*>(alloc_.get()) + kGuardBytes); }
  size_t size_bytes() const { return count_ * sizeof(T); }

  /// Downloads the interior (synchronizes first).
  std::vector<T> download() {
    synchronize();
    std::vector<T> host(count_);
    copy_to_host(host.data(), data(), count_ * sizeof(T));
    return host;
  }
  /// True when both guard bands still hold only the sentinel.
  bool guards_intact() {
    synchronize();
    std::vector<uint8_t> all(alloc_.bytes());
    copy_to_host(all.data(), alloc_.get(), all.size());
    const size_t tail = kGuardBytes + count_ * sizeof(T);
    for (size_t i = 0; i < kGuardBytes; ++i)
      if (all[i] != kSentinel || all[tail + i] != kSentinel) return false;
    return true;
  }

 private:
  size_t count_;
  DeviceAllocation alloc_;
};

/// Uploads a host array into a plain device allocation.
template <typename T>
DeviceAllocation upload(const std::vector<T>& host) {
  DeviceAllocation d(host.size() * sizeof(T));
  copy_to_device(d.get(), host.data(), host.size() * sizeof(T));
  return d;
}

/// Error bound for Y = W X on real-valued BF16 inputs (W m x k row-major, X n x k row-major,
/// Y m x n column-major). Per element:
///
///     |y - d| <= 2 * E_ref + ulp_bf16(|d| + 2 E_ref)
///
/// d: the exact product in double. E_ref: the largest |acc - d| of the reference's own FP32
/// accumulation (sequential order, zipserv/reference/gemm.h) over all elements. Why: the GPU sums the same
/// exact BF16 products in FP32 in another order (tensor-core k16 groups, then K steps, then
/// splits), so its accumulation error is of the reference's size; 2x leaves room for the
/// tensor core's own internal rounding. The ulp term is the final rounding to BF16 (half an ulp,
/// at the magnitude the accumulator can reach; a full ulp is stated).
inline void expect_within_gemm_bound(const std::vector<uint16_t>& w, int64_t m, int64_t k,
                                     const std::vector<uint16_t>& x, int64_t n, const std::vector<uint16_t>& y,
                                     const std::string& what) {
  ASSERT_EQ(y.size(), static_cast<size_t>(m * n)) << what;
  std::vector<double> exact(static_cast<size_t>(m * n));
  double e_ref = 0.0;
  for (int64_t col = 0; col < n; ++col)
    for (int64_t row = 0; row < m; ++row) {
      double d = 0.0;
      float acc = 0.0f;
      for (int64_t i = 0; i < k; ++i) {
        const float a = bf16_to_float(w[row * k + i]), b = bf16_to_float(x[col * k + i]);
        d += static_cast<double>(a) * b;
        acc += a * b;
      }
      exact[col * m + row] = d;
      e_ref = std::max(e_ref, std::abs(static_cast<double>(acc) - d));
    }
  int failures = 0;
  for (size_t e = 0; e < exact.size() && failures < 10; ++e) {
    const double d = exact[e], got = bf16_to_float(y[e]);
    const double reach = std::abs(d) + 2 * e_ref;
    const double ulp = reach > 0 ? std::ldexp(1.0, std::ilogb(reach) - 7) : 0.0;
    const double tol = 2 * e_ref + ulp;
    if (!(std::abs(got - d) <= tol)) {  // also catches NaN
      ++failures;
      ADD_FAILURE() << what << ": element (m " << e % m << ", n " << e / m << ") = " << got << ", exact " << d
                    << ", |err| " << std::abs(got - d) << " > bound " << tol << " (E_ref " << e_ref << ")";
    }
  }
}

// The host API writes Y through a pointer; these return it, so a test can compare whole results.
inline std::vector<uint16_t> zipgemm_result(const CompressedMatrix& w, const uint16_t* x, int64_t n,
                                            const GemmOptions& options = {}) {
  std::vector<uint16_t> y(static_cast<size_t>(w.rows * std::max<int64_t>(n, 0)));
  zipgemm(w, x, n, y.data(), options);
  return y;
}
inline std::vector<uint16_t> gemm_dense_result(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n,
                                               const GemmOptions& options = {}) {
  std::vector<uint16_t> y(static_cast<size_t>(std::max<int64_t>(m, 0) * std::max<int64_t>(n, 0)));
  gemm_dense(w, m, k, x, n, y.data(), options);
  return y;
}
inline std::vector<uint16_t> cublas_result(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n) {
  std::vector<uint16_t> y(static_cast<size_t>(std::max<int64_t>(m, 0) * std::max<int64_t>(n, 0)));
  cublas_gemm(w, m, k, x, n, y.data());
  return y;
}

}  // namespace zipserv::cuda::test

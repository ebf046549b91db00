// The CUDA host API rejects bad input before it touches the device, so these run on any
// machine (label `cuda` only): null pointers, bad n, bad split counts, damaged matrices,
// incomplete device views.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_test_inputs.h"
#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/reference/encode.h"

namespace zipserv::cuda {
namespace {

CompressedMatrix small_matrix() {
  const auto w = test::gaussian_values(172 * 200, 0.02, 3);
  return encode(w.data(), 172, 200);  // K/64 = 4 block tiles per row
}

template <typename F>
void expect_invalid_argument(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning '" << needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(HostApiValidation, DeviceAvailableNeverThrows) { EXPECT_NO_THROW((void)device_available()); }

TEST(HostApiValidation, ZipGemmRejectsBadArgumentsBeforeTheDevice) {
  const CompressedMatrix w = small_matrix();
  const std::vector<uint16_t> x(200 * 4, 0);
  std::vector<uint16_t> y(172 * 4, 0);
  expect_invalid_argument([&] { cuda::zipgemm(w, nullptr, 1, y.data()); }, "null pointer");
  expect_invalid_argument([&] { cuda::zipgemm(w, x.data(), 0, y.data()); }, "must be positive");
  expect_invalid_argument([&] { cuda::zipgemm(w, x.data(), -3, y.data()); }, "must be positive");
  expect_invalid_argument([&] { cuda::zipgemm(w, x.data(), 4, y.data(), GemmOptions{5}); }, "split_k = 5");
  expect_invalid_argument([&] { cuda::zipgemm(w, x.data(), 4, y.data(), GemmOptions{-1}); }, "split_k = -1");
  expect_invalid_argument([&] { cuda::zipgemm(w, x.data(), 1, nullptr); }, "y (output)");
  expect_invalid_argument([&] { cuda::decode_into(w, nullptr); }, "decode output");
}

TEST(HostApiValidation, DenseAndCublasRejectBadArguments) {
  const std::vector<uint16_t> w(64 * 64, 0), x(64, 0);
  std::vector<uint16_t> y(64, 0);
  expect_invalid_argument([&] { gemm_dense(nullptr, 64, 64, x.data(), 1, y.data()); }, "null pointer");
  expect_invalid_argument([&] { gemm_dense(w.data(), 64, 64, nullptr, 1, y.data()); }, "null pointer");
  expect_invalid_argument([&] { gemm_dense(w.data(), 0, 64, x.data(), 1, y.data()); }, "not positive");
  expect_invalid_argument([&] { cublas_gemm(w.data(), 64, 64, x.data(), 0, y.data()); }, "must be positive");
  expect_invalid_argument([&] { cublas_gemm(nullptr, 64, 64, x.data(), 1, y.data()); }, "null pointer");
  expect_invalid_argument([&] { gemm_dense(w.data(), 64, 64, x.data(), 1, nullptr); }, "y (output)");
  expect_invalid_argument([&] { cublas_gemm(w.data(), 64, 64, x.data(), 1, nullptr); }, "y (output)");
}

TEST(HostApiValidation, DamagedMatricesAreFormatErrors) {
  CompressedMatrix bad = small_matrix();
  bad.global_offsets[2] += 16;  // block tile 0's segment no longer matches its bitmaps
  const std::vector<uint16_t> x(200, 0);
  std::vector<uint16_t> y(172, 0);
  EXPECT_THROW(cuda::decode(bad), FormatError);
  EXPECT_THROW(trace_lane_fragments(bad), FormatError);
  EXPECT_THROW(cuda::zipgemm(bad, x.data(), 1, y.data()), FormatError);
  EXPECT_THROW(DeviceCompressedMatrix::upload(bad), FormatError);
  CompressedMatrix truncated = small_matrix();
  truncated.bitmap2.pop_back();
  EXPECT_THROW(cuda::zipgemm(truncated, x.data(), 1, y.data()), FormatError);
}

TEST(HostApiValidation, DeviceLaunchesCheckViewsAndWorkspace) {
  // The checks are the launch code's own (launches.inl), the same for the GPU and cuda-sim; they
  // run here on cuda-sim, so they are tested in a build without the GPU kernels too.
  const BackendScope on_cpu(Backend::cuda_sim());
  CompressedView empty;  // null arrays
  uint16_t y = 0, x = 0;
  expect_invalid_argument([&] { launch_zipgemm(empty, &x, 1, &y, nullptr, 0, 1, nullptr); }, "non-positive shape");
  empty.rows = empty.cols = 64;
  expect_invalid_argument([&] { launch_zipgemm(empty, &x, 1, &y, nullptr, 0, 1, nullptr); }, "null array");
  expect_invalid_argument([&] { launch_decode(empty, &y, nullptr); }, "null array");

  // A view whose arrays are present and aligned (never dereferenced: the checks fail first).
  alignas(16) static uint64_t words[64];
  CompressedView v;
  v.rows = 64;
  v.cols = 128;  // K/64 = 2
  v.bitmap1 = v.bitmap2 = v.bitmap3 = words;
  v.sign_mantissa = reinterpret_cast<const uint8_t*>(words);
  v.full = reinterpret_cast<const uint16_t*>(words);
  v.median_offsets = v.global_offsets = reinterpret_cast<const int32_t*>(words);
  expect_invalid_argument([&] { launch_zipgemm(v, &x, 1, &y, nullptr, 0, 2, nullptr); }, "workspace");
  expect_invalid_argument([&] { launch_zipgemm(v, &x, 1, &y, nullptr, 0, 3, nullptr); }, "split_k = 3");
  expect_invalid_argument([&] { launch_zipgemm(v, &x, 1, nullptr, nullptr, 0, 1, nullptr); }, "y (output)");
  v.max_hf = 17;  // not a padded segment size
  expect_invalid_argument([&] { launch_zipgemm(v, &x, 1, &y, nullptr, 0, 1, nullptr); }, "segment maxima");
  v.max_hf = 0;
  v.bitmap2 = reinterpret_cast<const uint64_t*>(reinterpret_cast<const char*>(words) + 8);
  expect_invalid_argument([&] { launch_zipgemm(v, &x, 1, &y, nullptr, 0, 1, nullptr); }, "16-B aligned");
  expect_invalid_argument([&] { launch_zipgemm_trace(v, &x, 1, &y, nullptr, 0, 1, nullptr, nullptr); }, "trace");
  v.bitmap2 = words;  // aligned again: the next checks must fail on their own
  uint32_t trace = 0;
  expect_invalid_argument([&] { launch_zipgemm_trace(v, &x, 9, &y, nullptr, 0, 1, &trace, nullptr); }, "n <= 8");
  v.max_full = 12;  // not a multiple of 8 elements (16 B)
  expect_invalid_argument([&] { launch_decode(v, &y, nullptr); }, "segment maxima");
}

TEST(HostApiValidation, TraceRejectsBadSplitBeforeTheDevice) {
  const CompressedMatrix w = small_matrix();  // K/64 = 4
  expect_invalid_argument([&] { trace_lane_fragments(w, 5); }, "split_k = 5");
  expect_invalid_argument([&] { trace_lane_fragments(w, 0); }, "split_k = 0");
}

}  // namespace
}  // namespace zipserv::cuda

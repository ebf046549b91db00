// The host-array API of the CUDA implementation (zipgemm.h): validate, upload, launch on the
// default stream, synchronize, download; on this thread's backend (the GPU or cuda-sim).
#include "zipserv/cuda/zipgemm.h"

#include <memory>
#include <string>
#include <vector>

#include "kernel_launch.h"
#include "runtime.h"
#include "zipserv/reference/decode.h"

namespace zipserv::cuda {

using detail::reject;

namespace {

// A backend that can run the kernels (for the GPU: a device of compute capability 8.0 or newer).
void require_device() { detail::current_runtime().require(); }

template <typename T>
DeviceAllocation upload_array(const T* host, size_t count) {
  DeviceAllocation d(count * sizeof(T));
  copy_to_device(d.get(), host, count * sizeof(T));
  return d;
}

template <typename T>
std::vector<T> download_array(const DeviceAllocation& d, size_t count) {
  std::vector<T> host(count);
  copy_to_host(host.data(), d.get(), count * sizeof(T));
  return host;
}

// Split count of a call: the caller's, or the automatic choice. The caller's is checked
// before any device work (validate_gemm_launch), the automatic one needs the device.
int requested_split(int64_t m, int64_t k, int64_t n, const GemmOptions& options) {
  return options.split_k != 0 ? options.split_k : automatic_split_k(m, k, n);
}

// Runs a fused GEMM whose W is already on the device; `launch` gets (x, y, workspace, bytes, split).
template <typename Launch>
void run_gemm(int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y, int split_k, Launch launch) {
  const DeviceAllocation x_dev = upload_array(x, static_cast<size_t>(n * k));
  DeviceAllocation y_dev(static_cast<size_t>(m * n) * sizeof(uint16_t));
  const size_t ws_bytes = split_k_workspace_bytes(m, n, split_k);
  DeviceAllocation workspace(ws_bytes);
  launch(static_cast<const uint16_t*>(x_dev.get()), static_cast<uint16_t*>(y_dev.get()),
         static_cast<float*>(workspace.get()), ws_bytes, split_k);
  detail::current_runtime().synchronize("running the GEMM");
  copy_to_host(y, y_dev.get(), static_cast<size_t>(m * n) * sizeof(uint16_t));
}

}  // namespace

bool device_available() { return detail::current_runtime().unavailable_reason().empty(); }

std::string unavailable_reason() { return detail::current_runtime().unavailable_reason(); }

int automatic_split_k(int64_t m, int64_t k, int64_t n) { return choose_split_k(m, k, n, device_sm_count()); }

void decode_into(const CompressedMatrix& m, uint16_t* out) {
  validate(m);
  if (out == nullptr) reject("decode output is a null pointer");
  require_device();
  const DeviceCompressedMatrix w = DeviceCompressedMatrix::upload(m);
  DeviceAllocation out_dev(static_cast<size_t>(m.rows * m.cols) * sizeof(uint16_t));
  launch_decode(w.view(), static_cast<uint16_t*>(out_dev.get()), nullptr);
  detail::current_runtime().synchronize("running the decode kernel");
  copy_to_host(out, out_dev.get(), static_cast<size_t>(m.rows * m.cols) * sizeof(uint16_t));
}

std::vector<uint16_t> decode(const CompressedMatrix& m) {
  validate(m);  // before sizing the output from the shape it checks
  std::vector<uint16_t> out(static_cast<size_t>(m.rows * m.cols));
  cuda::decode_into(m, out.data());  // qualified: ADL would also find zipserv::decode_into
  return out;
}

std::vector<uint32_t> trace_lane_fragments(const CompressedMatrix& m) { return trace_lane_fragments(m, 1); }

std::vector<uint32_t> trace_lane_fragments(const CompressedMatrix& m, int split_k) {
  validate(m);
  const std::vector<uint16_t> x(static_cast<size_t>(m.cols), 0);  // one token of zeros: only the trace matters
  validate_gemm_launch(m.rows, m.cols, x.data(), 1, split_k);
  require_device();
  const DeviceCompressedMatrix w = DeviceCompressedMatrix::upload(m);
  const size_t count = static_cast<size_t>(lane_fragment_count(m));
  DeviceAllocation trace(count * sizeof(uint32_t));
  fill_device(trace.get(), 0xFF, trace.bytes());  // unwritten = 0xFFFFFFFF
  std::vector<uint16_t> y(static_cast<size_t>(m.rows));
  run_gemm(m.rows, m.cols, x.data(), 1, y.data(), split_k, [&](const uint16_t* xd, uint16_t* yd, float* ws, size_t bytes, int s) {
    launch_zipgemm_trace(w.view(), xd, 1, yd, ws, bytes, s, static_cast<uint32_t*>(trace.get()), nullptr);
  });
  return download_array<uint32_t>(trace, count);
}

void zipgemm(const CompressedMatrix& w, const uint16_t* x, int64_t n, uint16_t* y, const GemmOptions& options) {
  validate(w);
  validate_gemm_launch(w.rows, w.cols, x, n, options.split_k != 0 ? options.split_k : 1);
  if (y == nullptr) reject("y (output) is a null pointer");
  require_device();
  const int split_k = requested_split(w.rows, w.cols, n, options);
  const DeviceCompressedMatrix wd = DeviceCompressedMatrix::upload(w);
  run_gemm(w.rows, w.cols, x, n, y, split_k, [&](const uint16_t* xd, uint16_t* yd, float* ws, size_t bytes, int s) {
    launch_zipgemm(wd.view(), xd, n, yd, ws, bytes, s, nullptr, options.pipeline_stages);
  });
}

void gemm_dense(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y,
                const GemmOptions& options) {
  if (w == nullptr) reject("w (weights) is a null pointer");
  validate_gemm_launch(m, k, x, n, options.split_k != 0 ? options.split_k : 1);
  if (y == nullptr) reject("y (output) is a null pointer");
  if (options.pipeline_stages != 2) reject("the dense twin runs the two-stage pipeline");
  require_device();
  const int split_k = requested_split(m, k, n, options);
  const DeviceDenseMatrix wd = DeviceDenseMatrix::upload(w, m, k);
  run_gemm(m, k, x, n, y, split_k, [&](const uint16_t* xd, uint16_t* yd, float* ws, size_t bytes, int s) {
    launch_gemm_dense(wd.view(), xd, n, yd, ws, bytes, s, nullptr);
  });
}

std::optional<MmaNumerics> backend_numerics() {
  const Backend& b = current_backend();
  if (b.kind == BackendKind::simulator) return b.simulator.numerics;
  require_device();
  switch (detail::current_runtime().compute_capability()) {
    case 80: return MmaNumerics::sm80;
    case 89: return MmaNumerics::sm89;
    case 90: return MmaNumerics::sm90;
    default: return std::nullopt;
  }
}

std::vector<float> mma_tiles(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b,
                             const std::vector<float>& c) {
  const size_t problems = c.size() / 128;
  if (c.size() % 128 != 0 || a.size() != problems * 256 || b.size() != problems * 128)
    reject("mma_tiles needs a (P, 16, 16), b (P, 16, 8) and c (P, 16, 8) for one P; got " + std::to_string(a.size()) +
           ", " + std::to_string(b.size()) + " and " + std::to_string(c.size()) + " elements");
  require_device();
  if (problems == 0) return {};
  const DeviceAllocation ad = upload_array(a.data(), a.size()), bd = upload_array(b.data(), b.size()),
                         cd = upload_array(c.data(), c.size());
  DeviceAllocation dd(c.size() * sizeof(float));
  detail::current_runtime().launch_mma_probe(static_cast<const uint16_t*>(ad.get()), static_cast<const uint16_t*>(bd.get()),
                                             static_cast<const float*>(cd.get()), static_cast<float*>(dd.get()),
                                             static_cast<int64_t>(problems));
  detail::current_runtime().synchronize("running the mma probe");
  return download_array<float>(dd, c.size());
}

void cublas_gemm(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y) {
  if (w == nullptr) reject("w (weights) is a null pointer");
  validate_gemm_launch(m, k, x, n, 1);
  if (y == nullptr) reject("y (output) is a null pointer");
  require_device();
  detail::Runtime& runtime = detail::current_runtime();
  const DeviceAllocation w_dev = upload_array(w, static_cast<size_t>(m * k));
  const DeviceAllocation x_dev = upload_array(x, static_cast<size_t>(n * k));
  DeviceAllocation y_dev(static_cast<size_t>(m * n) * sizeof(uint16_t));
  const auto destroy = [&runtime](cublasContext* h) { runtime.destroy_cublas(h); };
  const std::unique_ptr<cublasContext, decltype(destroy)> handle(runtime.create_cublas(), destroy);  // every path
  launch_cublas_gemm(handle.get(), static_cast<const uint16_t*>(w_dev.get()), m, k,
                     static_cast<const uint16_t*>(x_dev.get()), n, static_cast<uint16_t*>(y_dev.get()));
  runtime.synchronize("running cuBLAS");
  copy_to_host(y, y_dev.get(), static_cast<size_t>(m * n) * sizeof(uint16_t));
}

}  // namespace zipserv::cuda

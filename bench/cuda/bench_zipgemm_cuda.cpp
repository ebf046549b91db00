// bench_zipgemm_cuda: ZipGEMM (fused decode + GEMM) vs cuBLAS BF16 on the Llama-3.1 linear
// layers, plus the standalone decode kernel, on one GPU.
//
// Method (see .library/device/METHOD.md): Gaussian sigma = 0.02 BF16 weights; every
// configuration is checked before it is timed (ZipGEMM == its dense twin bit for bit at the same
// split count, ZipGEMM vs cuBLAS relative L2 error, decompress == the original weights); each
// timing is the median of --reps repetitions measured with CUDA events after --warmup launches,
// with L2 flushed before every repetition by writing a buffer of 2x the L2 size. Achieved
// bandwidth counts the bytes the kernel must move (compressed W + X + Y for ZipGEMM, dense W + X
// + Y for cuBLAS) and is compared with a measured device-to-device copy (bytes read + written).
//
// Usage: bench_zipgemm_cuda [--reps R] [--warmup W] [--quick]   (--quick: O projection only)
// Prints Markdown tables on stdout. Exit code 0 without a device (message on stdout), 1 on a
// failed check or CUDA error.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/reference/encode.h"

namespace {

using namespace zipserv::cuda;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

struct Layer {
  const char* name;
  int64_t m, k;
};

std::vector<uint16_t> gaussian(int64_t count, float sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<uint16_t> v(static_cast<size_t>(count));
  for (auto& x : v) x = zipserv::float_to_bf16_rne(dist(rng));
  return v;
}

// Times `launch` with CUDA events: warm-up, then per repetition an L2 flush (outside the timed
// region) and one timed launch; returns the median in milliseconds.
template <typename Launch>
double median_ms(Launch launch, int warmup, int reps, DeviceAllocation& flush) {
  for (int i = 0; i < warmup; ++i) launch();
  check(cudaDeviceSynchronize(), "warm-up");
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "event");
  const std::unique_ptr<CUevent_st, decltype(&cudaEventDestroy)> start_owner(start, &cudaEventDestroy);
  check(cudaEventCreate(&stop), "event");
  const std::unique_ptr<CUevent_st, decltype(&cudaEventDestroy)> stop_owner(stop, &cudaEventDestroy);
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    check(cudaMemsetAsync(flush.get(), r & 0xFF, flush.bytes()), "L2 flush");
    check(cudaEventRecord(start), "record");
    launch();
    check(cudaEventRecord(stop), "record");
    check(cudaEventSynchronize(stop), "sync");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "elapsed");
    times.push_back(ms);
  }
  check(cudaGetLastError(), "timed launches");
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::vector<uint16_t> download(const DeviceAllocation& d, size_t count) {
  std::vector<uint16_t> h(count);
  check(cudaMemcpy(h.data(), d.get(), count * 2, cudaMemcpyDeviceToHost), "download");
  return h;
}

double relative_l2(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = zipserv::bf16_to_float(a[i]), y = zipserv::bf16_to_float(b[i]);
    num += (x - y) * (x - y);
    den += y * y;
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

int run(int argc, char** argv) {
  int reps = 50, warmup = 10;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = std::max(0, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
  }
  if (!device_available()) {
    std::printf("bench_zipgemm_cuda: no CUDA device available; nothing measured.\n");
    return 0;
  }
  int device = 0;
  cudaDeviceProp prop{};
  check(cudaGetDevice(&device), "device");
  check(cudaGetDeviceProperties(&prop, device), "properties");
  DeviceAllocation flush(static_cast<size_t>(std::max(prop.l2CacheSize, 1 << 20)) * 2);

  // Copy bandwidth ceiling: a 1 GiB device-to-device copy, bytes read + bytes written.
  const size_t copy_bytes = size_t{1} << 30;
  DeviceAllocation copy_a(copy_bytes), copy_b(copy_bytes);
  check(cudaMemset(copy_a.get(), 1, copy_bytes), "memset");
  const double copy_ms = median_ms([&] { check(cudaMemcpyAsync(copy_b.get(), copy_a.get(), copy_bytes,
                                                               cudaMemcpyDeviceToDevice), "copy"); },
                                   3, 10, flush);
  const double copy_gbs = 2.0 * copy_bytes / (copy_ms * 1e6);
  std::printf("# bench_zipgemm_cuda on %s (sm_%d%d, %d SMs, L2 %d MB)\n\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount, prop.l2CacheSize >> 20);
  std::printf("Device-to-device copy: %.1f GB/s (read + write). Median of %d reps, %d warm-up, L2 flushed.\n\n",
              copy_gbs, reps, warmup);

  std::vector<Layer> layers = {{"Llama-3.1-8B QKV", 6144, 4096},
                               {"Llama-3.1-8B O", 4096, 4096},
                               {"Llama-3.1-8B GateUp", 28672, 4096},
                               {"Llama-3.1-8B Down", 4096, 14336},
                               {"Llama-3.1-70B GateUp", 57344, 8192}};
  if (quick) layers = {{"Llama-3.1-8B O", 4096, 4096}};
  const std::vector<int64_t> ns = {1, 8, 16, 32, 64, 128};

  cublasHandle_t handle = nullptr;
  if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasCreate failed");
  const std::unique_ptr<cublasContext, decltype(&cublasDestroy)> handle_owner(handle, &cublasDestroy);  // every path

  std::string gemm_table =
      "| layer | M x K | N | bits/weight | split | ZipGEMM us | cuBLAS us | speedup | ZipGEMM GB/s | "
      "% of copy | cuBLAS GB/s | dense twin us | rel. L2 vs cuBLAS |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::string decomp_table =
      "| layer | M x K | decompress us | GB/s (compressed read + bf16 written) | % of copy | checked |\n"
      "|---|---|---|---|---|---|\n";
  bool all_ok = true;
  char line[512];
  for (const Layer& layer : layers) {
    const int64_t m = layer.m, k = layer.k;
    std::fprintf(stderr, "preparing %s %lldx%lld ...\n", layer.name, static_cast<long long>(m), static_cast<long long>(k));
    const std::vector<uint16_t> w = gaussian(m * k, 0.02f, 42);
    const zipserv::CompressedMatrix c = zipserv::encode(w.data(), m, k);
    const DeviceCompressedMatrix dw = DeviceCompressedMatrix::upload(c);
    const DeviceDenseMatrix dd = DeviceDenseMatrix::upload(w.data(), m, k);
    DeviceAllocation w_raw(w.size() * 2);
    check(cudaMemcpy(w_raw.get(), w.data(), w.size() * 2, cudaMemcpyHostToDevice), "upload W");
    const double bits = c.bits_per_weight();

    // Decompression: check, then time.
    DeviceAllocation decoded(w.size() * 2);
    launch_decode(dw.view(), static_cast<uint16_t*>(decoded.get()), nullptr);
    check(cudaDeviceSynchronize(), "decompress");
    const bool decomp_ok = download(decoded, w.size()) == w;
    all_ok = all_ok && decomp_ok;
    const double d_ms = median_ms([&] { launch_decode(dw.view(), static_cast<uint16_t*>(decoded.get()), nullptr); },
                                  warmup, reps, flush);
    const double d_bytes = static_cast<double>(dw.payload_bytes()) + 2.0 * m * k;
    std::snprintf(line, sizeof line, "| %s | %lld x %lld | %.1f | %.1f | %.0f %% | %s |\n", layer.name,
                  static_cast<long long>(m), static_cast<long long>(k), d_ms * 1e3, d_bytes / (d_ms * 1e6),
                  100.0 * d_bytes / (d_ms * 1e6) / copy_gbs, decomp_ok ? "bit-exact" : "**MISMATCH**");
    decomp_table += line;

    for (int64_t n : ns) {
      const std::vector<uint16_t> x = gaussian(n * k, 1.0f, 7 + n);
      DeviceAllocation xd(x.size() * 2), y_zip(static_cast<size_t>(m * n) * 2), y_dense(static_cast<size_t>(m * n) * 2),
          y_blas(static_cast<size_t>(m * n) * 2);
      check(cudaMemcpy(xd.get(), x.data(), x.size() * 2, cudaMemcpyHostToDevice), "upload X");
      const int split = automatic_split_k(m, k, n);
      DeviceAllocation ws(split_k_workspace_bytes(m, n, split));
      const auto* xp = static_cast<const uint16_t*>(xd.get());
      auto zip = [&] { launch_zipgemm(dw.view(), xp, n, static_cast<uint16_t*>(y_zip.get()), static_cast<float*>(ws.get()), ws.bytes(), split, nullptr); };
      auto dense = [&] { launch_gemm_dense(dd.view(), xp, n, static_cast<uint16_t*>(y_dense.get()), static_cast<float*>(ws.get()), ws.bytes(), split, nullptr); };
      auto blas = [&] { launch_cublas_gemm(handle, static_cast<const uint16_t*>(w_raw.get()), m, k, xp, n, static_cast<uint16_t*>(y_blas.get())); };
      // Check before timing.
      zip();
      dense();
      blas();
      check(cudaDeviceSynchronize(), "check launches");
      const auto yz = download(y_zip, static_cast<size_t>(m * n)), yd = download(y_dense, static_cast<size_t>(m * n)),
                 yb = download(y_blas, static_cast<size_t>(m * n));
      const bool twin_ok = yz == yd;
      const double rel = relative_l2(yz, yb);
      const bool ok = twin_ok && rel < 1e-2;  // BF16 outputs of two FP32-accumulated GEMMs: ~1e-3
      all_ok = all_ok && ok;
      const double z_ms = median_ms(zip, warmup, reps, flush);
      const double b_ms = median_ms(blas, warmup, reps, flush);
      const double t_ms = median_ms(dense, warmup, reps, flush);
      const double io = 2.0 * n * k + 2.0 * m * n;  // X read + Y written
      const double z_gbs = (dw.payload_bytes() + io) / (z_ms * 1e6), b_gbs = (2.0 * m * k + io) / (b_ms * 1e6);
      std::snprintf(line, sizeof line,
                    "| %s | %lld x %lld | %lld | %.2f | %d | %.1f | %.1f | %.2fx | %.0f | %.0f %% | %.0f | %.1f | %.1e%s |\n",
                    layer.name, static_cast<long long>(m), static_cast<long long>(k), static_cast<long long>(n), bits,
                    split, z_ms * 1e3, b_ms * 1e3, b_ms / z_ms, z_gbs, 100.0 * z_gbs / copy_gbs, b_gbs, t_ms * 1e3,
                    rel, ok ? "" : (twin_ok ? " **FAIL**" : " **TWIN MISMATCH**"));
      gemm_table += line;
      std::fprintf(stderr, "%s", line);
    }
  }
  std::printf("## ZipGEMM vs cuBLAS BF16 (GemmEx OP_T/OP_N, FP32 compute, default algo)\n\n%s\n", gemm_table.c_str());
  std::printf("## Decode kernel\n\n%s\n", decomp_table.c_str());
  std::printf("All checks %s.\n", all_ok ? "passed" : "FAILED");
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_zipgemm_cuda: %s\n", e.what());
    return 1;
  }
}

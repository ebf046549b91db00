// Encode and decode throughput of the reference, in bytes of BF16 per second (the uncompressed
// size: what a model loader moves), on one thread and on all hardware threads.
//
// Inputs:
//   gaussian_4096x4096  N(0, 0.02^2) rounded to BF16: the shape and statistics of an LLM
//                       projection matrix (about 97 % of weights inside the window)
//   use_lite_8002x256   the real word-embedding matrix of Universal Sentence Encoder lite
//                       (data/use-lite-en.safetensors; rows not a multiple of 64)
//
// `encode` includes the histogram and the window choice; `decode` includes validate().
// `encode_by_traversal` / `decode_by_traversal` time the defining element-by-element code.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <thread>

#include "test_inputs.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"

namespace {

using zipserv::test::Matrix;

const Matrix& gaussian_4096() {
  static const Matrix m = zipserv::test::gaussian_matrix(4096, 4096, 0.02, 2026);
  return m;
}

const Matrix& use_lite_embeddings() {
  static const Matrix m = [] {
    std::string error;
    Matrix loaded = zipserv::test::read_fixture_tensor(zipserv::test::fixture_path("use-lite-en.safetensors"),
                                                      zipserv::test::kUseLiteEmbeddings, error);
    if (!error.empty()) std::fprintf(stderr, "fixture: %s\n", error.c_str());
    return loaded;
  }();
  return m;
}

// Arg 0: threads (0 = all hardware threads).
void run_encode(benchmark::State& state, const Matrix& w) {
  if (w.values.empty()) return state.SkipWithError("input matrix missing");
  const zipserv::EncodeOptions options{static_cast<int>(state.range(0))};
  double bits = 0;
  for (auto _ : state) {
    zipserv::CompressedMatrix c = zipserv::encode(w.values.data(), w.rows, w.cols, options);
    bits = c.bits_per_weight();
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(state.iterations() * w.rows * w.cols * 2);
  state.counters["bits_per_weight"] = bits;
}

void run_decode(benchmark::State& state, const Matrix& w) {
  if (w.values.empty()) return state.SkipWithError("input matrix missing");
  const zipserv::CompressedMatrix c = zipserv::encode(w.values.data(), w.rows, w.cols, zipserv::EncodeOptions{0});
  std::vector<uint16_t> out(w.values.size());  // (rows, cols) bf16
  const zipserv::DecodeOptions options{static_cast<int>(state.range(0))};
  for (auto _ : state) {
    zipserv::decode_into(c, out.data(), options);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (out != w.values) state.SkipWithError("decode is not lossless");
  state.SetBytesProcessed(state.iterations() * w.rows * w.cols * 2);
}

void run_encode_by_traversal(benchmark::State& state, const Matrix& w) {
  if (w.values.empty()) return state.SkipWithError("input matrix missing");
  for (auto _ : state) {
    zipserv::CompressedMatrix c = zipserv::encode_by_traversal(w.values.data(), w.rows, w.cols, 118);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(state.iterations() * w.rows * w.cols * 2);
}

void run_decode_by_traversal(benchmark::State& state, const Matrix& w) {
  if (w.values.empty()) return state.SkipWithError("input matrix missing");
  const zipserv::CompressedMatrix c = zipserv::encode(w.values.data(), w.rows, w.cols);
  for (auto _ : state) {
    std::vector<uint16_t> out = zipserv::decode_by_traversal(c);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * w.rows * w.cols * 2);
}

void BM_encode_gaussian_4096x4096(benchmark::State& s) { run_encode(s, gaussian_4096()); }
void BM_decode_gaussian_4096x4096(benchmark::State& s) { run_decode(s, gaussian_4096()); }
void BM_encode_use_lite_8002x256(benchmark::State& s) { run_encode(s, use_lite_embeddings()); }
void BM_decode_use_lite_8002x256(benchmark::State& s) { run_decode(s, use_lite_embeddings()); }
void BM_encode_by_traversal_gaussian_4096x4096(benchmark::State& s) { run_encode_by_traversal(s, gaussian_4096()); }
void BM_decode_by_traversal_gaussian_4096x4096(benchmark::State& s) { run_decode_by_traversal(s, gaussian_4096()); }

// threads:1 and threads:0 (all). Real time: the work runs on threads the benchmark does not see.
#define ZIPSERV_THREAD_ARGS ArgName("threads")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond)
BENCHMARK(BM_encode_gaussian_4096x4096)->ZIPSERV_THREAD_ARGS;
BENCHMARK(BM_decode_gaussian_4096x4096)->ZIPSERV_THREAD_ARGS;
BENCHMARK(BM_encode_use_lite_8002x256)->ZIPSERV_THREAD_ARGS;
BENCHMARK(BM_decode_use_lite_8002x256)->ZIPSERV_THREAD_ARGS;
BENCHMARK(BM_encode_by_traversal_gaussian_4096x4096)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_decode_by_traversal_gaussian_4096x4096)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("hardware_threads", std::to_string(std::thread::hardware_concurrency()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

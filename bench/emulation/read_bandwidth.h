// The speed of light of a GEMV that streams its weights: how fast one thread, or all of them,
// can read a buffer far larger than the caches. bench_emulation registers it next to the GEMMs
// so that every GEMV row can be stated as a share of it (docs/results/emulation.md).
#pragma once

#include <cstdint>

namespace zipserv::bench {

/// Bytes the read benchmark streams per iteration: 256 MiB, eight times the L3 of the machines
/// the results were taken on, so every byte comes from DRAM.
inline constexpr int64_t kReadBandwidthBytes = int64_t{256} << 20;

/// Registers "Bandwidth/read/256MiB/threads:<t>" for t in {1, `all_threads`}: each iteration
/// reads the whole buffer once (the threads take equal contiguous parts) with the widest SIMD
/// loads of the build's native target and XORs it into a checksum; bytes_per_second is the read
/// bandwidth.
void register_read_bandwidth(int all_threads);

}  // namespace zipserv::bench

// The scalar twins of the warp intrinsics (warp_intrinsics.h).
#include "zipserv/emulation/warp_intrinsics.h"

#include <gtest/gtest.h>

namespace zipserv::emu {
namespace {

TEST(WarpIntrinsics, PopcCountsSetBits) {
  EXPECT_EQ(popc(0), 0);
  EXPECT_EQ(popc(~uint64_t{0}), 64);
  EXPECT_EQ(popc(0x8000000000000001ULL), 2);
  EXPECT_EQ(popc(0x00000000FFFF0000ULL), 16);
}

TEST(WarpIntrinsics, ShflSyncBroadcastsOneLane) {
  WarpValues<int> v{};
  for (int lane = 0; lane < kWarpLanes; ++lane) v[lane] = 100 + lane;
  const WarpValues<int> from31 = shfl_sync(v, 31);
  const WarpValues<int> from0 = shfl_sync(v, 0);
  const WarpValues<int> from33 = shfl_sync(v, 33);  // the hardware takes the source lane mod 32
  for (int lane = 0; lane < kWarpLanes; ++lane) {
    EXPECT_EQ(from31[lane], 131);
    EXPECT_EQ(from0[lane], 100);
    EXPECT_EQ(from33[lane], 101);
  }
}

}  // namespace
}  // namespace zipserv::emu

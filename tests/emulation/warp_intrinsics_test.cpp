// The scalar twin of __popcll (warp_intrinsics.h).
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

}  // namespace
}  // namespace zipserv::emu

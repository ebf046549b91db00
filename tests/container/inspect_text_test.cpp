// elide_middle(), which keeps `zipserv inspect`'s table readable with long tensor names: the
// result fits the width, keeps the name's start and end, and never cuts a UTF-8 character.
#include <gtest/gtest.h>

#include <string>

#include "zipserv/container/model_stats.h"

namespace {

using zipserv::st::elide_middle;

// True if `s` is well-formed UTF-8 (lead byte, then the continuation bytes it announces).
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

TEST(ElideMiddle, NamesThatFitAreUnchanged) {
  EXPECT_EQ(elide_middle("", 40), "");
  EXPECT_EQ(elide_middle("w", 40), "w");
  const std::string exactly(40, 'a');
  EXPECT_EQ(elide_middle(exactly, 40), exactly);
}

// Where `e` is the start of `name`, the marker and the end of `name`: the marker's offset (the
// name may have dots next to it), or npos.
size_t split_point(const std::string& e, const std::string& name) {
  for (size_t k = 0; k + 3 <= e.size(); ++k)
    if (e.compare(k, 3, zipserv::st::kElisionMarker) == 0 && name.starts_with(e.substr(0, k)) &&
        name.ends_with(e.substr(k + 3)))
      return k;
  return std::string::npos;
}

TEST(ElideMiddle, LongNamesKeepStartAndEndAtTheWidth) {
  const std::string name = "model.layers.17.self_attn.rotary_embedding.inv_freq.q_proj.weight";  // 66 bytes
  for (size_t width = 4; width < name.size(); ++width) {
    const std::string e = elide_middle(name, width);
    ASSERT_EQ(e.size(), width) << e;
    const size_t marker = split_point(e, name);
    ASSERT_NE(marker, std::string::npos) << e;
    EXPECT_GE(e.size() - marker - 3, marker) << "the end keeps at least as much as the start: " << e;
  }
  EXPECT_EQ(elide_middle(name, 3), "mod") << "no room for the marker: the start";
}

TEST(ElideMiddle, NeverCutsAUtf8Character) {
  // Two-, three- and four-byte characters at every offset the cuts can fall on.
  const std::string name = "\u00e9t\u00e9.\u65e5\u672c\u8a9e.\U0001F600\U0001F600.poids.\u00e9l\u00e8ve.\u65e5\u672c.weight";
  for (size_t width = 4; width < name.size(); ++width) {
    const std::string e = elide_middle(name, width);
    EXPECT_LE(e.size(), width);
    EXPECT_GE(e.size() + 6, width) << "each cut moves by less than one 4-byte character";
    EXPECT_TRUE(valid_utf8(e)) << "width " << width;
    EXPECT_NE(split_point(e, name), std::string::npos) << e;
  }
}

}  // namespace

/*! \file expand_tables.h
 *  \brief The byte-shuffle tables of the table-driven stream expand (stream_expand-inl.h): for
 *         every 8-bit mask of one FragTile row, where each of its 8 elements finds its bytes.
 *
 *  Plain data, shared by every SIMD target (built at compile time: five tables of 4 KB, and the
 *  80 KB row pair tables at the end). One FragTile row
 *  is 8 consecutive elements = byte r of each bitmap word = one 128-bit vector of 8 BF16 values.
 *  For such a row with high-frequency mask `hf` (bit i: element i is high-frequency), the
 *  popcount-and-select rule reads
 *
 *      element i, bit i of hf set:    sign_mantissa[hf_cursor + rank(hf, i)]
 *      element i, bit i of hf clear:  full[fb_cursor + i - rank(hf, i)]
 *
 *  with rank(hf, i) = popcount(hf & ((1 << i) - 1)). rank depends on `hf` alone, so the byte
 *  offsets of all 8 elements are one table row, and one byte shuffle (pshufb, TBL) applies it to
 *  the next 16 stream bytes; the cursors then advance by popcount(hf) and 8 - popcount(hf).
 *  Example, hf = 0b00000101: elements 0 and 2 read sign/mantissa bytes 0 and 1, elements 1, 3,
 *  4, 5, 6, 7 read fallback entries 0..5 (bytes 0..11).
 *
 *  A selector byte of 0x80 makes the shuffle write 0 (TableLookupBytesOr0), so each table leaves
 *  the other stream's elements zero and the two results combine with an OR.
 */
#pragma once

#include <array>
#include <cstdint>

namespace zipserv::emu {

/// One 16-byte shuffle selector per 8-bit mask: (256, 16) u8.
using RowShuffleTable = std::array<std::array<uint8_t, 16>, 256>;

/// Shuffle selector byte that produces 0.
inline constexpr uint8_t kZeroByte = 0x80;

/// returns rank(mask, i): the set bits of `mask` below bit i.
constexpr int rank_below(unsigned mask, int i) {
  int n = 0;
  for (int j = 0; j < i; ++j) n += (mask >> j) & 1;
  return n;
}

/// t[hf][2i], t[hf][2i + 1] = rank(hf, i) for high-frequency elements i (both bytes of the
/// 16-bit lane get the sign/mantissa byte: the sign lands in bit 15 and the mantissa in bits
/// 0..6 of the BF16), kZeroByte for the others.
constexpr RowShuffleTable make_sign_mantissa_selectors() {
  RowShuffleTable t{};
  for (unsigned hf = 0; hf < 256; ++hf)
    for (int i = 0; i < 8; ++i) {
      const bool set = (hf >> i) & 1;
      const uint8_t at = set ? static_cast<uint8_t>(rank_below(hf, i)) : kZeroByte;
      t[hf][2 * i] = at;
      t[hf][2 * i + 1] = at;
    }
  return t;
}

/// t[hf][2i], t[hf][2i + 1] = the two bytes of fallback entry i - rank(hf, i) for elements i
/// that are not high-frequency, kZeroByte for the others.
constexpr RowShuffleTable make_fallback_selectors() {
  RowShuffleTable t{};
  for (unsigned hf = 0; hf < 256; ++hf)
    for (int i = 0; i < 8; ++i) {
      const bool set = (hf >> i) & 1;
      const int entry = i - rank_below(hf, i);
      t[hf][2 * i] = set ? kZeroByte : static_cast<uint8_t>(2 * entry);
      t[hf][2 * i + 1] = set ? kZeroByte : static_cast<uint8_t>(2 * entry + 1);
    }
  return t;
}

/// t[c][2i], t[c][2i + 1] = `weight` times bit i of `c`, in both bytes of 16-bit lane i; the
/// high byte also carries `high_flag`. OR-ing the tables of the three bitmap bytes gives every
/// element's code (0..7) in its low byte and code | 8 in its high byte: the indices of the
/// exponent table (see ExponentFieldBytes() in stream_expand-inl.h).
constexpr RowShuffleTable make_code_bit_table(uint8_t weight, uint8_t high_flag) {
  RowShuffleTable t{};
  for (unsigned c = 0; c < 256; ++c)
    for (int i = 0; i < 8; ++i) {
      const uint8_t v = ((c >> i) & 1) ? weight : 0;
      t[c][2 * i] = v;
      t[c][2 * i + 1] = static_cast<uint8_t>(v | high_flag);
    }
  return t;
}

/// The five tables of one FragTile row, in one object so that the decoder addresses them all
/// from one base register.
struct RowExpandTables {
  RowShuffleTable sign_mantissa;  ///< where the sign/mantissa bytes of a row go
  RowShuffleTable fallback;       ///< where the fallback entries of a row go
  RowShuffleTable code_bit1;      ///< bit 0 of each element's code, from bitmap1's byte (flag 8 on the high byte)
  RowShuffleTable code_bit2;      ///< bit 1 of each element's code, from bitmap2's byte
  RowShuffleTable code_bit4;      ///< bit 2 of each element's code, from bitmap3's byte
};

/// The tables, built at compile time (20 KB).
alignas(64) inline constexpr RowExpandTables kRowExpandTables = {
    make_sign_mantissa_selectors(), make_fallback_selectors(), make_code_bit_table(1, 8), make_code_bit_table(2, 0),
    make_code_bit_table(4, 0)};

// The worked example of the file comment, hf = 0b00000101: elements 0 and 2 read sign/mantissa
// bytes 0 and 1 (both bytes of their lanes), element 1 reads fallback entry 0 (bytes 0, 1),
// element 3 entry 1 (bytes 2, 3), element 7 entry 5 (bytes 10, 11).
static_assert(kRowExpandTables.sign_mantissa[0b101][0] == 0 && kRowExpandTables.sign_mantissa[0b101][1] == 0 &&
              kRowExpandTables.sign_mantissa[0b101][4] == 1 && kRowExpandTables.sign_mantissa[0b101][5] == 1 &&
              kRowExpandTables.sign_mantissa[0b101][2] == kZeroByte);
static_assert(kRowExpandTables.fallback[0b101][2] == 0 && kRowExpandTables.fallback[0b101][3] == 1 &&
              kRowExpandTables.fallback[0b101][6] == 2 && kRowExpandTables.fallback[0b101][14] == 10 &&
              kRowExpandTables.fallback[0b101][15] == 11 && kRowExpandTables.fallback[0b101][0] == kZeroByte);
// Code 5 (code bits 1 and 4 set) in lane 0: low byte 5, high byte 5 | 8.
static_assert((kRowExpandTables.code_bit1[1][0] | kRowExpandTables.code_bit4[1][0]) == 5 &&
              (kRowExpandTables.code_bit1[1][1] | kRowExpandTables.code_bit4[1][1]) == 13);

/// One row's selectors when two FragTile rows share one window of each stream (the row pair
/// decode of stream_expand-inl.h): bytes 0..15 place the sign/mantissa bytes, bytes 16..31 the
/// fallback entries. `(32) u8`
using RowPairSelectors = std::array<uint8_t, 32>;

/// returns the selectors of a row with high-frequency mask `hf` whose sign/mantissa bytes start
/// `sm_skip` bytes into a 16-byte window and whose fallback entries start `fb_skip` bytes into
/// another: sign_mantissa selectors[hf] + sm_skip and fallback selectors[hf] + fb_skip, kZeroByte
/// where the other stream's elements sit. A fallback byte past the window (a pair whose two rows
/// hold more than 8 fallback entries together) is kZeroByte too: such pairs never use the table
/// (see DecodeRowsTableExpand()).
constexpr RowPairSelectors row_pair_selectors(unsigned hf, int sm_skip, int fb_skip) {
  RowPairSelectors t{};
  for (int i = 0; i < 8; ++i) {
    const bool set = (hf >> i) & 1;
    const int rank = rank_below(hf, i);
    const int sm = sm_skip + rank, fb = fb_skip + 2 * (i - rank);
    t[2 * i] = t[2 * i + 1] = set ? static_cast<uint8_t>(sm) : kZeroByte;
    t[16 + 2 * i] = !set && fb + 1 < 16 ? static_cast<uint8_t>(fb) : kZeroByte;
    t[16 + 2 * i + 1] = !set && fb + 1 < 16 ? static_cast<uint8_t>(fb + 1) : kZeroByte;
  }
  return t;
}

/// The selectors of two consecutive FragTile rows j, j + 1 that share one 16-byte window of each
/// stream, the window starting where row j's entries start: row j reads from byte 0, row j + 1
/// from just past row j's entries, c0 sign/mantissa bytes and 2 (8 - c0) fallback bytes in
/// (c0 = row j's high-frequency elements). Both rows' sign/mantissa bytes always fit (c0 + c1 <=
/// 16); their fallback entries fit when c0 + c1 >= 8.
struct RowPairExpandTables {
  std::array<RowPairSelectors, 256> first;                  ///< [hf of row j]: skips 0, 0
  std::array<std::array<RowPairSelectors, 256>, 9> second;  ///< [c0][hf of row j + 1]: skips c0, 2 (8 - c0)
};

constexpr RowPairExpandTables make_row_pair_tables() {
  RowPairExpandTables t{};
  for (unsigned hf = 0; hf < 256; ++hf) {
    t.first[hf] = row_pair_selectors(hf, 0, 0);
    for (int c0 = 0; c0 <= 8; ++c0) t.second[c0][hf] = row_pair_selectors(hf, c0, 2 * (8 - c0));
  }
  return t;
}

/// The row pair tables, built at compile time (80 KB; a Gaussian matrix touches a few lines of
/// it: 0xFF rows, all high-frequency, are about 70 % of its rows).
alignas(64) inline constexpr RowPairExpandTables kRowPairExpandTables = make_row_pair_tables();

// Worked example: row j = 0b11111011 (c0 = 7: element 2 is its one fallback entry), row j + 1 =
// 0b11111110 (element 0 is a fallback entry). Row j + 1's first sign/mantissa byte is window
// byte 7, its fallback entry window bytes 2, 3 (row j's entry is bytes 0, 1).
static_assert(kRowPairExpandTables.first[0b11111011][16 + 4] == 0 && kRowPairExpandTables.first[0b11111011][6] == 2 &&
              kRowPairExpandTables.first[0b11111011][4] == kZeroByte);
static_assert(kRowPairExpandTables.second[7][0b11111110][2] == 7 && kRowPairExpandTables.second[7][0b11111110][3] == 7 &&
              kRowPairExpandTables.second[7][0b11111110][16] == 2 && kRowPairExpandTables.second[7][0b11111110][17] == 3 &&
              kRowPairExpandTables.second[7][0b11111110][0] == kZeroByte);

/// t[b] = popcount(b): for targets without a POPCNT instruction (SSSE3), where the builtin
/// popcount is a library call.
constexpr std::array<uint8_t, 256> make_byte_popcounts() {
  std::array<uint8_t, 256> t{};
  for (unsigned b = 0; b < 256; ++b) t[b] = static_cast<uint8_t>(rank_below(b, 8));
  return t;
}
/// The set bits of each byte value.
alignas(64) inline constexpr std::array<uint8_t, 256> kBytePopcounts = make_byte_popcounts();

}  // namespace zipserv::emu

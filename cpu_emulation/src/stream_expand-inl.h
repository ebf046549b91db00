/*! \file stream_expand-inl.h
 *  \brief Stream expand: the per-lane popcount-and-select collapsed into "the set lanes read
 *         consecutive sign/mantissa bytes, the others consecutive fallback entries".
 *
 *  Per-target code (see bitmap_decode-inl.h). Two forms of the same computation:
 *
 *   - DecodeFragTileTableExpand (every SIMD target): one FragTile row (8 elements, one 128-bit
 *     block of BF16) per 128-bit block, a pair of rows from one window of each stream (two rows
 *     per 256-bit vector on AVX2 and AVX-512); the row's 8-bit masks select byte-shuffle
 *     selectors from tables (expand_tables.h) and popcounts advance the streams.
 *   - DecodeFragTileExpand (AVX3_DL only, AVX-512 VBMI2, every Zen 4 and Ice Lake or later
 *     core): vpexpandw places a run of consecutive stream entries into the lanes a mask selects,
 *     32 elements per instruction.
 *
 *  Why it computes the same thing. Lane p of the popcount-and-select rule reads
 *  sign_mantissa[hf + popc(indicator & ((1 << p) - 1))] when indicator bit p is set, and
 *  full[fb + p - popc(...)] when it is clear: the set lanes, in ascending p, read consecutive
 *  sign_mantissa entries starting at hf, and the clear lanes read consecutive full entries
 *  starting at fb. That is exactly what expand does: `expand(mask, v)` gives lane p the element
 *  v[popc(mask & ((1 << p) - 1))] where mask bit p is set. So the per-lane popcounts, the
 *  windowed byte shuffles and the final select of DecodeFragTileBitmapPopcount() collapse into
 *  one expand of each stream; the rebuild of the high-frequency value (spec C) is unchanged.
 *  The lane decode tests run decode_slice() on every target against decode_lane().
 */

// Per-target include guard: toggles each time foreach_target.h re-includes this file.
#if defined(ZIPSERV_EMU_STREAM_EXPAND_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ZIPSERV_EMU_STREAM_EXPAND_INL_H_
#undef ZIPSERV_EMU_STREAM_EXPAND_INL_H_
#else
#define ZIPSERV_EMU_STREAM_EXPAND_INL_H_
#endif

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "expand_tables.h"
#include "hwy/highway.h"
#include "zipserv/emulation/lane_decode.h"

#if HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();  // why: compiles what follows with this target's instruction set
namespace zipserv::emu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
// Row r of a FragTile is byte r of its bitmap words in memory only on a little-endian machine.
static_assert(std::endian::native == std::endian::little, "the table-driven expand reads bitmap bytes in little-endian order");

/// returns the 16-byte table the codes are looked up in: entry c (0..7) is the low byte of the
/// exponent field ((start_exp + c) mod 256) << 7, entry 8 + c its high byte; code 0 (a fallback
/// element) gives 0 in both, so the element's fallback value can be OR-ed in. Asked for once
/// per strip, so computed in vectors (a scalar loop cost about a hundred instructions): the
/// low byte is bit 0 of the sum at bit 7, the high byte the sum >> 1.
/// REFERENCE: rebuild_bf16()'s exponent field, bits 7..14 of the BF16.
HWY_INLINE hn::Vec<hn::Full128<uint8_t>> ExponentFieldBytes(uint8_t start_exp) {
  const hn::Full128<uint8_t> d;
  alignas(16) static constexpr uint8_t kCodes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7};
  alignas(16) static constexpr uint8_t kLowBytes[16] = {0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0};
  alignas(16) static constexpr uint8_t kHighBytes[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  const auto sum = hn::Add(hn::Load(d, kCodes), hn::Set(d, start_exp));  // mod 256
  const auto low = hn::And(hn::ShiftLeft<7>(sum), hn::Set(d, uint8_t{0x80}));
  const auto high = hn::ShiftRight<1>(sum);
  return hn::Or(hn::And(low, hn::Load(d, kLowBytes)), hn::And(high, hn::Load(d, kHighBytes)));
}

/// Whether DecodeRowsTableExpand() takes its exponent fields from WriteExponentFields(): where a
/// vector holds 4 rows (256-bit and wider). With 128-bit vectors (2 rows) the pre-pass costs more
/// instructions a row than the code tables it replaces (measured slower on SSE4).
inline constexpr bool kExponentPrePass = hn::MaxLanes(hn::CappedTag<uint8_t, 32>()) == 32;

/// Writes out[8j + i] = the exponent field of element i of FragTile row j (bits 7..14 of its
/// BF16 value; 0 for a fallback element), for j < rows (a multiple of 8), computed for several
/// rows per vector: each row's three bitmap bytes are copied into the 8 bytes of its elements
/// (byte shuffle), each byte keeps its element's bit (AND with 1, 2, 4, ..., 128) and becomes a
/// 0/-1 mask (compare), the three masks give the code (0..7), and two 16-entry byte tables map
/// the code to the field's low and high byte. `exponent_bytes` is ExponentFieldBytes(start_exp).
/// REFERENCE: code_from_bitmaps(b1, b2, b3, 8j + i) and rebuild_bf16()'s exponent field.
HWY_INLINE void WriteExponentFields(const uint8_t* HWY_RESTRICT b1, const uint8_t* HWY_RESTRICT b2,
                                    const uint8_t* HWY_RESTRICT b3, int rows,
                                    hn::Vec<hn::Full128<uint8_t>> exponent_bytes, uint16_t* HWY_RESTRICT out) {
  const hn::CappedTag<uint8_t, 32> d;  // kRowsPerVector rows of 8 elements, 2 rows per 128-bit block
  using V = hn::Vec<decltype(d)>;
  constexpr int kBytes = static_cast<int>(hn::MaxLanes(d));
  constexpr int kRowsPerVector = kBytes / 8;
  constexpr int kGroups = 16 / kRowsPerVector;  // vectors per 16 rows
  static_assert(kBytes == 16 || kBytes == 32, "one or two 128-bit blocks");
  // Byte p of group g's shuffle selector: the row of element p, row = kRowsPerVector g + b +
  // (kRowsPerVector / 2) h for byte p = 16 b + 8 h + i of block b (with 256-bit vectors block 0
  // holds rows 0 and 2 of the group, block 1 rows 1 and 3, so that the interleaves below leave
  // rows 0, 1 in one vector and 2, 3 in the other, with no lane-crossing shuffle); bit: 1 << i.
  alignas(32) uint8_t select_bytes[kGroups][kBytes];
  alignas(32) uint8_t bit_bytes[kBytes];
  for (int p = 0; p < kBytes; ++p) {
    for (int g = 0; g < kGroups; ++g) select_bytes[g][p] = static_cast<uint8_t>(kRowsPerVector * g + p / 16 + (kRowsPerVector / 2) * (p % 16 / 8));
    bit_bytes[p] = static_cast<uint8_t>(1u << (p % 8));
  }
  const V bits = hn::Load(d, bit_bytes);
  // Code -> field byte: low bytes are entries 0..7 of exponent_bytes, high bytes entries 8..15.
  const hn::Full128<uint8_t> d16b;
  alignas(16) static constexpr uint8_t kLowEntries[16] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7};
  alignas(16) static constexpr uint8_t kHighEntries[16] = {8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15};
  alignas(16) uint8_t low_bytes[16], high_bytes[16];  // (computed once per call, in vectors)
  hn::Store(hn::TableLookupBytes(exponent_bytes, hn::Load(d16b, kLowEntries)), d16b, low_bytes);
  hn::Store(hn::TableLookupBytes(exponent_bytes, hn::Load(d16b, kHighEntries)), d16b, high_bytes);
  const V low_table = hn::LoadDup128(d, low_bytes), high_table = hn::LoadDup128(d, high_bytes);
  const hn::Repartition<uint16_t, decltype(d)> d16;
  for (int j0 = 0; j0 < rows; j0 += 16) {
    alignas(16) uint8_t tail[3][16];  // fewer than 16 rows left: zero-padded copies
    const uint8_t* src[3] = {b1 + j0, b2 + j0, b3 + j0};
    if (rows - j0 < 16)
      for (int b = 0; b < 3; ++b) {
        std::memset(tail[b], 0, sizeof(tail[b]));
        std::memcpy(tail[b], src[b], static_cast<size_t>(rows - j0));
        src[b] = tail[b];
      }
    const V v1 = hn::LoadDup128(d, src[0]), v2 = hn::LoadDup128(d, src[1]), v3 = hn::LoadDup128(d, src[2]);
    const int groups = std::min(kGroups, (rows - j0) / kRowsPerVector);
    for (int g = 0; g < groups; ++g) {
      const V select = hn::Load(d, select_bytes[g]);
      // REFERENCE: bit p of each bitmap word, as a 0 / -1 byte
      const V m1 = hn::VecFromMask(d, hn::TestBit(hn::TableLookupBytes(v1, select), bits));
      const V m2 = hn::VecFromMask(d, hn::TestBit(hn::TableLookupBytes(v2, select), bits));
      const V m3 = hn::VecFromMask(d, hn::TestBit(hn::TableLookupBytes(v3, select), bits));
      // code = bit1 + 2 bit2 + 4 bit3 = (m3 & 4) - m1 - 2 m2
      const V code = hn::Sub(hn::And(m3, hn::Set(d, uint8_t{4})), hn::Add(m1, hn::Add(m2, m2)));
      const V low = hn::TableLookupBytes(low_table, code), high = hn::TableLookupBytes(high_table, code);
      // Element fields as 16-bit lanes: lower = the group's first kRowsPerVector / 2 rows, upper
      // the others (one row a block)
      const auto lower = hn::BitCast(d16, hn::InterleaveLower(d, low, high));
      const auto upper = hn::BitCast(d16, hn::InterleaveUpper(d, low, high));
      uint16_t* at = out + 8 * (j0 + kRowsPerVector * g);
      hn::StoreU(lower, d16, at);
      hn::StoreU(upper, d16, at + 8 * kRowsPerVector / 2);
    }
  }
}

/// returns one FragTile row's exponent fields (as WriteExponentFields(), one row) from the three
/// code tables of kRowExpandTables: `tables` is &kRowExpandTables as bytes, `at1`, `at2`, `at4`
/// the row's bitmap bytes * 16 plus the offsets of code_bit1, code_bit2 and code_bit4 in it.
/// REFERENCE: code_from_bitmaps(b1, b2, b3, 8j + i) and rebuild_bf16()'s exponent field.
HWY_INLINE hn::Vec<hn::Full128<uint8_t>> CodeTableExponentFields(const uint8_t* HWY_RESTRICT tables, size_t at1,
                                                                 size_t at2, size_t at4,
                                                                 hn::Vec<hn::Full128<uint8_t>> exponent_bytes) {
  const hn::Full128<uint8_t> d8;
  const auto codes = hn::Or(hn::Or(hn::Load(d8, tables + at1), hn::Load(d8, tables + at2)),
                            hn::Load(d8, tables + at4));  // low byte code, high byte code | 8
  return hn::TableLookupBytes(exponent_bytes, codes);
}

/// Rows DecodeRowPairsTableExpand() takes its bitmap bytes in at once: one vector of up to 32
/// bytes (32 rows on 256-bit and wider targets, 16 on 128-bit ones).
inline constexpr int kRowPairBlockRows = static_cast<int>(hn::MaxLanes(hn::CappedTag<uint8_t, 32>()));

/// DecodeRowsTableExpand() a pair of rows at a time (rows a multiple of kRowPairBlockRows): the
/// two rows of a pair read one 16-byte window of each stream, loaded once, and each row's
/// selector starts where its entries start (kRowPairExpandTables: row 2p + 1's selectors are
/// picked by row 2p's count as well as its own mask). That holds when the pair's fallback
/// entries fit the window, at least 8 of its 16 elements high-frequency; in a strip of Gaussian
/// weights (about 96 % high-frequency) and of the bundled real ones every pair does. Otherwise
/// returns false having written nothing, and the caller decodes row by row. On success returns
/// true, `out` as DecodeRowsTableExpand() and `cursors` moved past the rows.
///  - 256-bit targets (AVX2, AVX-512): row 2p in the lower 128-bit block, 2p + 1 in the upper
///    (byte shuffles never cross a block), the window in both (vbroadcasti128), the exponent
///    fields from WriteExponentFields(). Against the previous pair loop, which loaded each row's
///    two windows and two selectors on its own (about 27 instructions and 11 loads a pair), this
///    one takes about 20 and 8, since the loop is bound by instructions issued and loads: the
///    GEMV that stays in L2 (256 x 1024, AVX2, best of 3000) went from 0.0686 to 0.0576 ms.
///  - 128-bit targets: one row per vector, both from the same two window loads, the exponent
///    fields from the three code tables; the pair's count comes from the pre-pass (no popcount:
///    SSSE3 has no POPCNT instruction).
/// Not inlined: a call per strip costs nothing measurable, and inlined into the GEMM's work item
/// it made clang -O3 with ASan and UBSan (the fuzzing build) spend over 15 minutes on
/// emulation.cc instead of about 6.
/// REFERENCE: the same values as DecodeRowsTableExpand()'s row loop, row by row.
inline HWY_NOINLINE bool DecodeRowPairsTableExpand(const uint8_t* HWY_RESTRICT b1, const uint8_t* HWY_RESTRICT b2,
                                                 const uint8_t* HWY_RESTRICT b3, int rows, StreamCursors& cursors,
                                                 const StagedStreams& st, hn::Vec<hn::Full128<uint8_t>> exponent_bytes,
                                                 uint16_t* HWY_RESTRICT out) {
  const hn::CappedTag<uint8_t, 32> d2;  // kRowPairBlockRows rows' bitmap bytes; on 256-bit targets also (2 rows, C8) bf16
  const hn::Repartition<uint16_t, decltype(d2)> d16;  // lane p: row 2p in the low byte, 2p + 1 in the high
  // Step 1, for all pairs at once: the offsets of both rows' selectors (in units of 8 bytes, the
  // largest scale of an x86 address) and the pair's high-frequency count; on 128-bit targets
  // also each row's code-table offsets (byte * 16, as DecodeRowsTableExpand()).
  constexpr int kMaxPairs = kFragTilesPerStrip * 4;
  alignas(64) uint16_t first_at[kMaxPairs], second_at[kMaxPairs], pair_count[kMaxPairs];  // (pairs) u16
  alignas(64) uint16_t code_at[kExponentPrePass ? 1 : 3][kExponentPrePass ? 1 : 2 * kMaxPairs];  // (code bit, rows) u16
  alignas(16) static constexpr uint8_t kNibblePopcounts[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
  const auto nibble_popcounts = hn::LoadDup128(d2, kNibblePopcounts);
  const auto low_nibble = hn::Set(d2, uint8_t{0x0F});
  const auto low_byte = hn::Set(d16, uint16_t{0x00FF});
  const auto second_table_at = hn::Set(d16, static_cast<uint16_t>(offsetof(RowPairExpandTables, second) / 8));
  auto fewest = hn::Set(d16, uint16_t{16});  // the smallest pair count so far
  for (int j0 = 0; j0 < rows; j0 += kRowPairBlockRows) {
    const auto hf = hn::Or(hn::Or(hn::LoadU(d2, b1 + j0), hn::LoadU(d2, b2 + j0)), hn::LoadU(d2, b3 + j0));
    // REFERENCE: popcount(hf) per row, from a 16-entry table of each nibble's bits
    const auto high_nibbles = hn::And(hn::BitCast(d2, hn::ShiftRight<4>(hn::BitCast(d16, hf))), low_nibble);
    const auto count = hn::BitCast(d16, hn::Add(hn::TableLookupBytes(nibble_popcounts, hn::And(hf, low_nibble)),
                                                hn::TableLookupBytes(nibble_popcounts, high_nibbles)));
    const auto hf_pairs = hn::BitCast(d16, hf);
    // first[hf of row 2p] is 32 hf bytes in; second[c0][hf of row 2p + 1] 32 (256 c0 + hf) past `second`
    hn::Store(hn::ShiftLeft<2>(hn::And(hf_pairs, low_byte)), d16, first_at + j0 / 2);
    hn::Store(hn::Add(second_table_at, hn::ShiftLeft<2>(hn::Or(hn::ShiftLeft<8>(count), hn::ShiftRight<8>(hf_pairs)))),
              d16, second_at + j0 / 2);
    const auto pair = hn::Add(hn::And(count, low_byte), hn::ShiftRight<8>(count));
    hn::Store(pair, d16, pair_count + j0 / 2);
    fewest = hn::Min(fewest, pair);
    if constexpr (!kExponentPrePass) {
      const hn::CappedTag<uint16_t, 8> d16_rows;  // 8 rows
      const hn::Rebind<uint8_t, decltype(d16_rows)> d8_rows;
      const uint8_t* HWY_RESTRICT bitmap[3] = {b1, b2, b3};
      constexpr uint16_t kCodeTableAt[3] = {offsetof(RowExpandTables, code_bit1), offsetof(RowExpandTables, code_bit2),
                                            offsetof(RowExpandTables, code_bit4)};
      for (int h = 0; h < kRowPairBlockRows; h += 8)
        for (int b = 0; b < 3; ++b)
          hn::Store(hn::Add(hn::ShiftLeft<4>(hn::PromoteTo(d16_rows, hn::LoadU(d8_rows, bitmap[b] + j0 + h))),
                            hn::Set(d16_rows, kCodeTableAt[b])),
                    d16_rows, code_at[b] + j0 + h);
    }
  }
  if (!hn::AllFalse(d16, hn::Lt(fewest, hn::Set(d16, uint16_t{8})))) return false;
  const uint8_t* HWY_RESTRICT tables = reinterpret_cast<const uint8_t*>(&kRowPairExpandTables);
  const uint8_t* HWY_RESTRICT sm_first = st.sign_mantissa + cursors.hf;
  const uint8_t* HWY_RESTRICT sm_next = sm_first;
  const uint8_t* HWY_RESTRICT full_next = reinterpret_cast<const uint8_t*>(st.full + cursors.full);
  uint8_t* HWY_RESTRICT out_bytes = reinterpret_cast<uint8_t*>(out);  // (rows, C8) bf16
  if constexpr (kExponentPrePass) {
    WriteExponentFields(b1, b2, b3, rows, exponent_bytes, out);  // step 4's exponent fields
    const auto sign_and_mantissa = hn::BitCast(d2, hn::Set(d16, uint16_t{0x807F}));
#pragma GCC unroll 2
    for (int p = 0; p < rows / 2; ++p) {
      const auto first = hn::Load(d2, tables + size_t{first_at[p]} * 8);    // (sign/mantissa, fallback) of row 2p
      const auto second = hn::Load(d2, tables + size_t{second_at[p]} * 8);  // the same of row 2p + 1
      // Steps 2 and 3: REFERENCE: sign_mantissa[hf + before], full[fb + (p - before)]
      const auto sm = hn::TableLookupBytesOr0(hn::LoadDup128(d2, sm_next), hn::ConcatLowerLower(d2, second, first));
      const auto fb = hn::TableLookupBytesOr0(hn::LoadDup128(d2, full_next), hn::ConcatUpperUpper(d2, second, first));
      // Step 4: REFERENCE: code ? rebuild_bf16(code, sm, start_exp) : full
      const auto exponent = hn::LoadU(d2, out_bytes + 32 * p);
      hn::StoreU(hn::Or(hn::Or(hn::And(sm, sign_and_mantissa), exponent), fb), d2, out_bytes + 32 * p);
      // Step 5: the pair's high-frequency elements, and 16 - count fallback entries of 2 bytes
      const size_t count = pair_count[p];
      sm_next += count;
      full_next += 2 * (16 - count);
    }
  } else {
    const hn::Full128<uint8_t> d8;  // one row
    const auto sign_and_mantissa = hn::BitCast(d8, hn::Set(hn::Full128<uint16_t>(), uint16_t{0x807F}));
    const uint8_t* HWY_RESTRICT code_tables = reinterpret_cast<const uint8_t*>(&kRowExpandTables);
#pragma GCC unroll 2
    for (int p = 0; p < rows / 2; ++p) {
      const auto sm_window = hn::LoadU(d8, sm_next), fb_window = hn::LoadU(d8, full_next);
      for (int r = 0; r < 2; ++r) {  // rows 2p and 2p + 1
        const int j = 2 * p + r;
        const uint8_t* HWY_RESTRICT selectors = tables + size_t{r == 0 ? first_at[p] : second_at[p]} * 8;
        // Steps 2 and 3: REFERENCE: sign_mantissa[hf + before], full[fb + (p - before)]
        const auto sm = hn::TableLookupBytesOr0(sm_window, hn::Load(d8, selectors));
        const auto fb = hn::TableLookupBytesOr0(fb_window, hn::Load(d8, selectors + 16));
        // Step 4: REFERENCE: code ? rebuild_bf16(code, sm, start_exp) : full
        const auto exponent = CodeTableExponentFields(code_tables, code_at[0][j], code_at[1][j], code_at[2][j], exponent_bytes);
        hn::StoreU(hn::Or(hn::Or(hn::And(sm, sign_and_mantissa), exponent), fb), d8, out_bytes + 16 * j);
      }
      // Step 5
      const size_t count = pair_count[p];
      sm_next += count;
      full_next += 2 * (16 - count);
    }
  }
  const int32_t hf_rows = static_cast<int32_t>(sm_next - sm_first);
  cursors = {cursors.hf + hf_rows, cursors.full + 8 * rows - hf_rows};
  return true;
}

/// Decodes `rows` consecutive FragTile rows (8 elements each) from their bitmap bytes: returns
/// out[8j + i] = the BF16 value of element i of row j, for j < rows, and the cursors after them.
/// `b1`, `b2`, `b3` hold byte j of the rows' bitmap words (FragTile f's row r is byte 8f + r of
/// a little-endian bitmap array, so a strip's 16 FragTiles are 128 consecutive rows, and its
/// register file (Q4, R4, T32) is the same 128 rows of 16 bytes back to back). `exponent_bytes`
/// is ExponentFieldBytes(st.start_exp). Reads at most 16 bytes of each stream from where each
/// row starts (within kStagingSlack past the segment end).
/// Steps for each row j:
///  1. hf = the row's indicator byte; each element's code bits from three table rows (with
///     256-bit vectors: the exponent fields of all rows first, WriteExponentFields(), 4 rows a
///     vector, written into `out` and read back by the row);
///  2. the next 16 sign/mantissa bytes shuffled into the high-frequency lanes (both bytes);
///  3. the next 8 fallback entries shuffled into the other lanes;
///  4. BF16 = sign and mantissa | exponent field (a 16-byte table indexed by code) | fallback;
///  5. advance both streams by the row's counts.
/// The rows go a pair at a time, both from one window of each stream (DecodeRowPairsTableExpand(),
/// two per 256-bit vector on AVX2 and AVX-512), unless some pair holds more than 8 fallback
/// elements or `rows` is not a multiple of kRowPairBlockRows; then the loop below takes one row
/// per 128-bit vector (about 14 instructions a row on SSE4 before the code tables). The loop is
/// bound by how many instructions the core issues a cycle, so every instruction taken out of it
/// counts (table offsets precomputed, one base register for the tables, the fallback cursor as
/// an address offset).
/// REFERENCE: out[8j + i] = decode_bit(...) of decode_lane(): code ? rebuild_bf16(code,
/// sign_mantissa[hf + before], start_exp) : full[fb + (p - before)].
HWY_INLINE StreamCursors DecodeRowsTableExpand(const uint8_t* HWY_RESTRICT b1, const uint8_t* HWY_RESTRICT b2,
                                               const uint8_t* HWY_RESTRICT b3, int rows, StreamCursors cursors,
                                               const StagedStreams& st, hn::Vec<hn::Full128<uint8_t>> exponent_bytes,
                                               uint16_t* HWY_RESTRICT out) {
  if (rows % kRowPairBlockRows == 0 && DecodeRowPairsTableExpand(b1, b2, b3, rows, cursors, st, exponent_bytes, out))
    return cursors;
  const hn::Full128<uint8_t> d8;  // 16 bytes = 8 BF16 = one FragTile row
  using V = hn::Vec<decltype(d8)>;
  // Step 1, for all rows at once: each row's table offsets (byte * 16, one 16-byte table row per
  // byte value), so that the row loop below only loads them. popcount(hf * 16) = popcount(hf).
  constexpr int kMaxRows = kFragTilesPerStrip * 8;
  alignas(64) uint16_t offsets[4][kMaxRows];  // (code bit 1, code bit 2, code bit 4, hf; rows) u16
  {
    const hn::CappedTag<uint16_t, 8> d16;
    const hn::Rebind<uint8_t, decltype(d16)> d8_rows;
    const size_t n = hn::Lanes(d16);
    // The code tables' offsets from the first table are folded in here, so that the row loop
    // addresses all five tables from one base register (separate pointers ran out of registers
    // and were reloaded from the stack every row).
    const auto code_bit1_at = hn::Set(d16, static_cast<uint16_t>(offsetof(RowExpandTables, code_bit1)));
    const auto code_bit2_at = hn::Set(d16, static_cast<uint16_t>(offsetof(RowExpandTables, code_bit2)));
    const auto code_bit4_at = hn::Set(d16, static_cast<uint16_t>(offsetof(RowExpandTables, code_bit4)));
    for (size_t j0 = 0; j0 < static_cast<size_t>(rows); j0 += n) {
      const auto r1 = hn::LoadU(d8_rows, b1 + j0), r2 = hn::LoadU(d8_rows, b2 + j0), r3 = hn::LoadU(d8_rows, b3 + j0);
      if constexpr (!kExponentPrePass) {
        hn::Store(hn::Add(hn::ShiftLeft<4>(hn::PromoteTo(d16, r1)), code_bit1_at), d16, offsets[0] + j0);
        hn::Store(hn::Add(hn::ShiftLeft<4>(hn::PromoteTo(d16, r2)), code_bit2_at), d16, offsets[1] + j0);
        hn::Store(hn::Add(hn::ShiftLeft<4>(hn::PromoteTo(d16, r3)), code_bit4_at), d16, offsets[2] + j0);
      }
      hn::Store(hn::ShiftLeft<4>(hn::PromoteTo(d16, hn::Or(hn::Or(r1, r2), r3))), d16, offsets[3] + j0);
    }
  }
  if constexpr (kExponentPrePass) WriteExponentFields(b1, b2, b3, rows, exponent_bytes, out);
  const V sign_and_mantissa = hn::BitCast(d8, hn::Set(hn::Full128<uint16_t>(), uint16_t{0x807F}));
  const uint8_t* HWY_RESTRICT sm_first = st.sign_mantissa + cursors.hf;
  const uint8_t* HWY_RESTRICT sm_next = sm_first;
  // Row j's fallback entries start 2 (8j - h) bytes after the cursor, h = the high-frequency
  // elements before the row: full_back = cursor - 2h, and the row adds 16j as an address offset.
  const uint8_t* HWY_RESTRICT full_back = reinterpret_cast<const uint8_t*>(st.full + cursors.full);
  uint8_t* HWY_RESTRICT out_bytes = reinterpret_cast<uint8_t*>(out);  // (rows, C8) bf16
  const uint8_t* HWY_RESTRICT tables = reinterpret_cast<const uint8_t*>(&kRowExpandTables);
  static_assert(offsetof(RowExpandTables, sign_mantissa) == 0, "at_hf indexes the first table");
  constexpr size_t kFallbackAt = offsetof(RowExpandTables, fallback);
#pragma GCC unroll 4
  for (int j = 0; j < rows; ++j) {  // a strip with a pair past its window, or a lone FragTile
    // Step 1: REFERENCE: code_from_bitmaps(b1, b2, b3, 8j + i); indicator = code != 0
    const size_t at_hf = offsets[3][j];
    // Step 2: REFERENCE: sign_mantissa[hf + before], in both bytes of its lane
    const V sm = hn::TableLookupBytesOr0(hn::LoadU(d8, sm_next), hn::Load(d8, tables + at_hf));
    // Step 3: REFERENCE: full[fb + (p - before)]
    const V fb = hn::TableLookupBytesOr0(hn::LoadU(d8, full_back + 16 * j), hn::Load(d8, tables + kFallbackAt + at_hf));
    // Step 4: REFERENCE: code ? rebuild_bf16(code, sm, start_exp) : full; each of the three
    // parts is 0 where the other kind of element sits, so OR merges them
    V exponent;
    if constexpr (kExponentPrePass) {
      exponent = hn::LoadU(d8, out_bytes + 16 * j);  // WriteExponentFields() above
    } else {
      exponent = CodeTableExponentFields(tables, offsets[0][j], offsets[1][j], offsets[2][j], exponent_bytes);
    }
    hn::StoreU(hn::Or(hn::Or(hn::And(sm, sign_and_mantissa), exponent), fb), d8, out_bytes + 16 * j);
    // Step 5
#if HWY_TARGET == HWY_SSSE3
    const size_t hf_count = kBytePopcounts[at_hf >> 4];  // no POPCNT instruction on this target
#else
    const size_t hf_count = hwy::PopCount(at_hf);
#endif
    sm_next += hf_count;
    full_back -= 2 * hf_count;
  }
  const int32_t hf_rows = static_cast<int32_t>(sm_next - sm_first);
  return {cursors.hf + hf_rows, cursors.full + 8 * rows - hf_rows};
}

/// Decodes one FragTile for all 32 lanes like DecodeFragTileBitmapPopcount(), one row of 8
/// elements per 128-bit vector (DecodeRowsTableExpand() on its 8 rows): returns regs[l] = lo |
/// hi << 16 with lo, hi the values of bits 2l and 2l+1. `regs` is (T32) u32.
/// REFERENCE: regs[l] equals decode_lane()'s register for this FragTile, lane l.
HWY_INLINE void DecodeFragTileTableExpand(const FragTileBitmaps& b, StreamCursors cursors, const StagedStreams& st,
                                          hn::Vec<hn::Full128<uint8_t>> exponent_bytes, uint32_t* HWY_RESTRICT regs) {
  (void)DecodeRowsTableExpand(reinterpret_cast<const uint8_t*>(&b.b1), reinterpret_cast<const uint8_t*>(&b.b2),
                              reinterpret_cast<const uint8_t*>(&b.b3), 8, cursors, st, exponent_bytes,
                              reinterpret_cast<uint16_t*>(regs));
}
#endif  // HWY_TARGET != HWY_SCALAR

#if HWY_TARGET == HWY_AVX3_DL
/// Decodes one FragTile for all 32 lanes like DecodeFragTileBitmapPopcount(), with vpexpandw:
/// returns regs[l] = lo | hi << 16 with lo, hi the values of bits 2l and 2l+1.
/// `regs` is (T32) u32, written as 64 16-bit elements. Reads at most 32 entries of each stream
/// from its cursor (within kStagingSlack past the segment end).
/// REFERENCE: regs[l] equals decode_lane()'s register for this FragTile, lane l.
HWY_INLINE void DecodeFragTileExpand(const FragTileBitmaps& b, StreamCursors cursors, const StagedStreams& st,
                                     uint32_t* HWY_RESTRICT regs) {
  const hn::Full512<uint16_t> d;  // 32 16-bit lanes: element p0 + i of the FragTile
  using V = hn::Vec<decltype(d)>;
  const uint64_t indicator = b.b1 | b.b2 | b.b3;
  const V start_exp_at_7 = hn::Set(d, static_cast<uint16_t>(st.start_exp << 7));  // exponent field position
  const V sign_and_mantissa = hn::Set(d, uint16_t{0x807F});  // bit 15 of sm << 8, bits 0..6 of sm
  const uint8_t* HWY_RESTRICT sm_next = st.sign_mantissa + cursors.hf;
  const uint16_t* HWY_RESTRICT full_next = st.full + cursors.full;
  uint16_t* HWY_RESTRICT values = reinterpret_cast<uint16_t*>(regs);  // (T32, 2) bf16
  for (int p0 = 0; p0 < kElementsPerFragTile; p0 += 32) {
    // Step 1: bit i of each mask = bit p0 + i of its bitmap word
    const __mmask32 hf = static_cast<__mmask32>(indicator >> p0);
    const __mmask32 c1 = static_cast<__mmask32>(b.b1 >> p0), c2 = static_cast<__mmask32>(b.b2 >> p0),
                    c3 = static_cast<__mmask32>(b.b3 >> p0);
    // Step 2: REFERENCE: code_from_bitmaps(b1, b2, b3, p), added to start_exp in the exponent
    // field (bits 7..14): (start_exp + code) << 7; a carry out of bit 14 is dropped in step 3,
    // which is the reference's sum modulo 256
    V exponent = V{_mm512_mask_add_epi16(start_exp_at_7.raw, c1, start_exp_at_7.raw, _mm512_set1_epi16(1 << 7))};
    exponent = V{_mm512_mask_add_epi16(exponent.raw, c2, exponent.raw, _mm512_set1_epi16(2 << 7))};
    exponent = V{_mm512_mask_add_epi16(exponent.raw, c3, exponent.raw, _mm512_set1_epi16(4 << 7))};
    // Step 3: REFERENCE: sign_mantissa[hf + before] for the set lanes, then rebuild_bf16()
    const V sm_bytes = hn::PromoteTo(d, hn::LoadU(hn::Full256<uint8_t>(), sm_next));  // next 32 bytes
    const V sm = V{_mm512_maskz_expand_epi16(hf, sm_bytes.raw)};
    // sign and mantissa from sm << 8 | sm, bits 7..14 from the exponent sum (one bit select)
    const V hf_value = hn::IfVecThenElse(sign_and_mantissa, hn::Or(hn::ShiftLeft<8>(sm), sm), exponent);
    // Step 4: REFERENCE: code ? rebuilt : full[fb + (p - before)]
    const V full_entries = hn::LoadU(d, full_next);  // next 32 fallback values
    const V value = V{_mm512_mask_expand_epi16(hf_value.raw, static_cast<__mmask32>(~hf), full_entries.raw)};
    hn::StoreU(value, d, values + p0);  // 16-bit lanes 2l, 2l+1 = warp lane l's register (lo, hi)
    // Step 5: the half's high-frequency lanes consumed that many bytes, the others full entries
    const int hf_count = static_cast<int>(hwy::PopCount(static_cast<uint64_t>(hf)));
    sm_next += hf_count;
    full_next += 32 - hf_count;
  }
}
#endif  // HWY_TARGET == HWY_AVX3_DL

}  // namespace zipserv::emu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();  // why: restores the default instruction set for the code after it

#endif  // per-target include guard

// Names of checkpoints and statuses, and the one-line description of a divergence.
#include "zipserv/oracle/checkpoint.h"

#include <cstdio>
#include <stdexcept>

namespace zipserv::oracle {

const char* checkpoint_name(Checkpoint c) {
  switch (c) {
    case Checkpoint::window: return "window";
    case Checkpoint::bitmaps: return "bitmaps";
    case Checkpoint::streams: return "streams";
    case Checkpoint::lane_fragments: return "lane_fragments";
    case Checkpoint::decoded: return "decoded";
    case Checkpoint::gemm_output: return "gemm_output";
  }
  return "?";
}

const char* status_name(Status s) {
  switch (s) {
    case Status::pass: return "pass";
    case Status::fail: return "FAIL";
    case Status::not_reached: return "not reached";
    case Status::not_applicable: return "n/a";
  }
  return "?";
}

std::string hex(uint64_t v, int bits) {
  char buf[24];
  const int digits = bits > 0 ? (bits + 3) / 4 : 1;
  if (bits > 0 && bits < 64) v &= (uint64_t{1} << bits) - 1;
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

std::string Divergence::describe() const {
  // Appends only: GCC 12 warns falsely (-Wrestrict, PR 105329) on "literal" + std::string.
  std::string s = checkpoint_name(checkpoint);
  auto add = [&s](std::string_view label, int64_t v) {
    if (v < 0) return;
    s.append(label);
    s.append(std::to_string(v));
  };
  s.append(": ").append(array);
  if (index >= 0) s.append("[").append(std::to_string(index)).append("]");
  const Place& p = place;
  // For an output, block_tile holds the block-tile row gm only (Y has no K).
  add(checkpoint == Checkpoint::gemm_output ? " block_row " : " block_tile ", p.block_tile);
  add(" warp ", p.warp);
  add(" slice ", p.slice);
  add(" fragtile ", p.fragtile);
  add(" bit ", p.bit);
  add(" lane ", p.lane);
  add(checkpoint == Checkpoint::gemm_output ? " c" : " a", p.reg);
  add(" (row ", p.row);
  add(", col ", p.row >= 0 ? p.col : -1);
  if (p.row >= 0) s.append(")");
  add(" + (row ", p.row2);
  add(", col ", p.row2 >= 0 ? p.col2 : -1);
  if (p.row2 >= 0) s.append(")");
  if (p.padding) s.append(" [padding]");
  if (index >= 0) s.append(": expected ").append(hex(expected, bits)).append(", got ").append(hex(actual, bits));
  if (!note.empty()) s.append(" (").append(note).append(")");
  return s;
}

bool Report::passed() const {
  for (const CheckpointResult& r : results)
    if (r.status == Status::fail) return false;
  return true;
}

const Divergence* Report::first_divergence() const {
  for (const CheckpointResult& r : results)
    if (r.status == Status::fail && r.divergence) return &*r.divergence;
  return nullptr;
}

const CheckpointResult& Report::at(Checkpoint c) const {
  for (const CheckpointResult& r : results)
    if (r.checkpoint == c) return r;
  throw std::out_of_range(std::string("report has no checkpoint ") + checkpoint_name(c));
}

}  // namespace zipserv::oracle

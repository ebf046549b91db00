// The llama2.c tokenizer: reading tokenizer.bin, BPE encoding by merge score, decoding (see tokenizer.h).
#include "zipserv/llama/tokenizer.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "zipserv/llama/config.h"

namespace zipserv::llama {
namespace {

// Little-endian 4-byte field at `at`, which the caller has bounds-checked.
template <typename T>
T read_field(const std::vector<char>& bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

}  // namespace

Tokenizer Tokenizer::load(const std::string& path, int vocab_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LlamaError("cannot open tokenizer " + path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 4) throw LlamaError("tokenizer " + path + " is too short to be a llama2.c tokenizer.bin");
  const int32_t max_length = read_field<int32_t>(bytes, 0);
  Tokenizer t;
  size_t at = 4;
  while (at < bytes.size()) {
    if (bytes.size() - at < 8)
      throw LlamaError("tokenizer " + path + ": token " + std::to_string(t.size()) + " is cut off");
    const float score = read_field<float>(bytes, at);
    const int32_t length = read_field<int32_t>(bytes, at + 4);
    at += 8;
    if (length < 1 || length > max_length || static_cast<size_t>(length) > bytes.size() - at)
      throw LlamaError("tokenizer " + path + ": token " + std::to_string(t.size()) + " has a bad length " +
                       std::to_string(length));
    t.pieces_.emplace_back(bytes.data() + at, static_cast<size_t>(length));
    t.scores_.push_back(score);
    at += static_cast<size_t>(length);
  }
  if (t.size() != vocab_size)
    throw LlamaError("vocabulary mismatch: tokenizer " + path + " has " + std::to_string(t.size()) +
                     " tokens, the model's vocab_size is " + std::to_string(vocab_size));
  if (vocab_size < kByteTokenOffset + 256)
    throw LlamaError("tokenizer " + path + " has no byte-fallback tokens (fewer than 259 tokens)");
  // The first id of a piece wins, as a lookup should be deterministic even if a file repeats one.
  for (int id = 0; id < t.size(); ++id) t.ids_.emplace(t.pieces_[static_cast<size_t>(id)], id);
  return t;
}

int Tokenizer::lookup(std::string_view piece) const {
  const auto it = ids_.find(std::string(piece));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int> Tokenizer::encode(std::string_view text, bool bos) const {
  std::vector<int> tokens;
  if (bos) tokens.push_back(kBosToken);
  if (text.empty()) return tokens;
  // SentencePiece's dummy prefix: the text is encoded as if it began with a space.
  const int space = lookup(" ");
  tokens.push_back(space >= 0 ? space : ' ' + kByteTokenOffset);

  // One token per UTF-8 code point (a lead byte and up to 3 continuation bytes), or its bytes.
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    while (len < 4 && i + len < text.size() && (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80) ++len;
    const std::string_view point = text.substr(i, len);
    if (const int id = lookup(point); id >= 0) {
      tokens.push_back(id);
    } else {
      for (const char c : point) tokens.push_back(static_cast<unsigned char>(c) + kByteTokenOffset);
    }
    i += len;
  }

  // Merge the adjacent pair whose concatenation is the highest-scoring token, until none is.
  const size_t first = bos ? 1 : 0;  // BOS never merges
  std::string pair;
  for (;;) {
    float best_score = -1e10f;
    int best_id = -1;
    size_t best_at = 0;
    for (size_t i = first; i + 1 < tokens.size(); ++i) {
      pair = pieces_[static_cast<size_t>(tokens[i])] + pieces_[static_cast<size_t>(tokens[i + 1])];
      const int id = lookup(pair);
      if (id >= 0 && scores_[static_cast<size_t>(id)] > best_score) {
        best_score = scores_[static_cast<size_t>(id)];
        best_id = id;
        best_at = i;
      }
    }
    if (best_id < 0) break;
    tokens[best_at] = best_id;
    tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
  }
  return tokens;
}

std::string Tokenizer::decode(int previous, int token) const {
  std::string_view piece = pieces_.at(static_cast<size_t>(token));
  if (previous == kBosToken && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
  unsigned int byte = 0;
  char tail = 0;
  // "<0xAB>" is byte fallback: the token stands for that one byte.
  if (piece.size() == 6 && std::sscanf(std::string(piece).c_str(), "<0x%02X%c", &byte, &tail) == 2 && tail == '>')
    return std::string(1, static_cast<char>(byte));
  return std::string(piece);
}

bool is_valid_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    int len = 0;
    uint32_t cp = 0;
    if (b0 < 0x80) { len = 1; cp = b0; }
    else if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; }
    else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; }
    else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; }
    else return false;
    if (i + static_cast<size_t>(len) > bytes.size()) return false;
    for (int j = 1; j < len; ++j) {
      const auto b = static_cast<unsigned char>(bytes[i + static_cast<size_t>(j)]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kSmallest[5] = {0, 0, 0x80, 0x800, 0x10000};  // below: overlong
    if (cp < kSmallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<size_t>(len);
  }
  return true;
}

}  // namespace zipserv::llama

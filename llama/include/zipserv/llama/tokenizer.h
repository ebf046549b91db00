/*! \file tokenizer.h
 *  \brief The SentencePiece-style BPE tokenizer of llama2.c: its `tokenizer.bin` file, encoding
 *         (BOS, a dummy-prefix space, byte fallback, merges by score) and decoding to text.
 *
 *  File layout: int32 max_token_length, then per token a float32 merge score, an int32 byte
 *  length and the token's bytes. The file does not store the token count: it holds exactly as
 *  many tokens as the model's vocab_size, which load() checks by reading to the end.
 */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zipserv::llama {

/// \addtogroup llama
/// \{

/// Token ids fixed by the Llama-2 vocabulary convention.
inline constexpr int kBosToken = 1;  ///< beginning of sequence
inline constexpr int kEosToken = 2;  ///< end of sequence
/// Byte fallback: byte b is token b + kByteTokenOffset (tokens 3..258 are <0x00>..<0xFF>).
inline constexpr int kByteTokenOffset = 3;

/// A loaded vocabulary.
class Tokenizer {
 public:
  /// Reads `path`; throws LlamaError if the file is malformed or holds a number of tokens other
  /// than `vocab_size` ("vocabulary mismatch").
  static Tokenizer load(const std::string& path, int vocab_size);

  /// Tokens of `text` as llama2.c's encode(): BOS if `bos`, then (for non-empty text) the token
  /// of " ", then one token per UTF-8 code point (its own token, or one byte token per byte),
  /// then repeatedly the adjacent pair whose concatenation is a token of highest score is merged.
  std::vector<int> encode(std::string_view text, bool bos) const;

  /// The bytes token `token` stands for, after `previous`: a byte token gives its byte, and the
  /// leading space of a piece right after BOS is dropped (SentencePiece's dummy prefix).
  std::string decode(int previous, int token) const;

  /// The raw piece of a token, as stored.
  const std::string& piece(int token) const { return pieces_.at(static_cast<size_t>(token)); }
  /// Number of tokens.
  int size() const { return static_cast<int>(pieces_.size()); }

 private:
  int lookup(std::string_view piece) const;  // id or -1

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int> ids_;
};

/// True if `bytes` is well-formed UTF-8 (no overlong form, no surrogate, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

/// \}

}  // namespace zipserv::llama

// Byte-level BPE tokenizer for Hugging Face `tokenizer.json` files, exact for the SmolVLM2
// tokenizer that LeRobot's SmolVLA uses, and LeRobot's task tokenization step on top of it.
//
// What is supported (anything else in tokenizer.json is refused with Unimplemented, naming the
// field, rather than silently tokenized differently):
//   normalizer     null
//   pre_tokenizer  ByteLevel(use_regex=true, add_prefix_space=false), optionally preceded by
//                  Digits(individual_digits=true|false), alone or in a Sequence
//   model          BPE: merges as ["a", "b"] lists or "a b" strings, ignore_merges, unk_token /
//                  fuse_unk; no dropout, byte_fallback, continuing_subword_prefix or
//                  end_of_word_suffix
//   post_processor null or ByteLevel (neither adds ids)
//   added_tokens   matched literally in the raw text before pre-tokenization, leftmost-longest,
//                  honouring lstrip / rstrip / single_word / normalized as HF tokenizers does
// See tokenizer.cc for why this is hand-written and what is approximated.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace embody::models::smolvla {

class BpeTokenizer {
 public:
  // Loads tokenizer.json (HF tokenizers format, byte-level BPE).
  // Errors: NotFound (the file is missing, naming the path), DataLoss (not valid JSON),
  // InvalidArgument (a field is missing or has the wrong type, naming the field),
  // Unimplemented (a normalizer, pre_tokenizer, model or post_processor this class does not
  // implement, naming the field).
  //
  // The pad token is not in tokenizer.json. Load reads it, when present, from the files that
  // transformers reads beside it, in transformers' order of precedence: special_tokens_map.json
  // ("pad_token"), then tokenizer_config.json ("pad_token"), then tokenizer.json's own
  // "padding.pad_token". With none of them, the pad token is "<|endoftext|>" if the vocabulary
  // has it, else id 0. For the SmolVLM2 folder this gives "<|im_end|>" = id 2, which is what
  // transformers' AutoTokenizer (and so LeRobot's SmolVLA) pads with.
  static Result<BpeTokenizer> Load(const std::string& tokenizer_json_path);

  // Token ids of `text` exactly as HF tokenizers' encode(text, add_special_tokens=True) gives
  // them for the supported configurations. `text` should be UTF-8; invalid sequences are read
  // as U+FFFD, one per maximal invalid subpart (as Python's bytes.decode(errors="replace")).
  // Thread-safe (const, no cache).
  std::vector<int32_t> Encode(std::string_view text) const;

  // Byte-level decode (special tokens kept, unknown ids skipped), for debugging and logs.
  std::string Decode(const std::vector<int32_t>& ids) const;

  // Distinct tokens, added tokens included (49280 for SmolVLM2).
  int32_t vocab_size() const { return vocab_size_; }
  // Added tokens first, then the BPE vocabulary (tokens in their byte-level spelling, "Ġthe").
  std::optional<int32_t> TokenId(std::string_view token) const;
  int32_t pad_id() const { return pad_id_; }
  const std::string& pad_token() const { return pad_token_; }
  const std::string& path() const { return path_; }

 private:
  BpeTokenizer() = default;

  struct AddedToken {  // one entry of tokenizer.json's added_tokens
    std::string content;
    int32_t id = 0;
    bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
  };
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  // Added tokens by first byte, longest first, for leftmost-longest matching.
  struct AddedMatcher {
    std::array<std::vector<int32_t>, 256> by_first_byte;  // indices into added_
    bool empty = true;
  };
  struct Span {
    size_t begin, end;
    int32_t added_id;  // -1: ordinary text
  };

  void SplitAdded(std::string_view text, const std::vector<Span>& in, const AddedMatcher& m,
                  std::vector<Span>* out) const;
  void EncodeOrdinary(std::string_view text, std::vector<int32_t>* ids) const;
  void EncodeWord(std::string_view bytes, std::vector<int32_t>* ids) const;

  std::string path_;
  std::unordered_map<std::string, int32_t> vocab_;  // byte-level spelling -> id
  std::vector<std::string> id_to_token_;            // model vocab, "" where unused
  std::unordered_map<uint64_t, Merge> merges_;      // (left id << 32 | right id) -> merge
  std::array<int32_t, 256> byte_id_{};              // id of each single byte's token, -1 if none
  std::vector<AddedToken> added_;
  std::unordered_map<std::string, int32_t> added_by_content_;
  std::unordered_map<int32_t, std::string> added_by_id_;
  AddedMatcher raw_matcher_, normalized_matcher_;
  bool digits_ = false, individual_digits_ = false;
  bool ignore_merges_ = false, fuse_unk_ = false;
  int32_t unk_id_ = -1;
  int32_t vocab_size_ = 0;
  int32_t pad_id_ = 0;
  std::string pad_token_;
};

// How a task longer than max_length tokens is cut. LeRobot's TokenizerProcessorStep passes
// truncation=True and no truncation_side, so the tokenizer's own setting applies; SmolVLM's
// tokenizer_config.json sets "truncation_side": "left" (transformers then keeps the LAST
// max_length tokens, so the trailing "\n" survives and the start of the task is dropped).
enum class TruncationSide { kLeft, kRight };

struct TokenizedTask {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;  // 1 valid, 0 padding
  int dropped_tokens = 0;     // tokens removed by truncation (for a CLI warning)
};

// LeRobot 0.4.4's SmolVLA preprocessing of the task string: SmolVLANewLineProcessor appends
// "\n" unless the task already ends with it, then TokenizerProcessorStep calls the tokenizer with
// max_length, truncation=True, padding=config.pad_language_to ("longest" by default: a single
// string is not padded; "max_length": pad_to_max_length=true, padding on the right with
// pad_id()) and padding_side="right".
// Errors: InvalidArgument for an empty task or max_length < 1.
Result<TokenizedTask> TokenizeTask(const BpeTokenizer& tok, std::string_view task, int max_length,
                                   bool pad_to_max_length,
                                   TruncationSide truncation_side = TruncationSide::kLeft);

}  // namespace embody::models::smolvla

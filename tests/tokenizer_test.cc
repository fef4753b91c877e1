// BpeTokenizer and TokenizeTask against the real SmolVLM2 tokenizer.json (shared/data) and the
// ids that Hugging Face tokenizers 0.22.2 and LeRobot 0.4.4 (transformers 4.57.6) give.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/smolvla/tokenizer.h"

#ifndef EMBODY_SHARED_DATA_DIR
#error "define EMBODY_SHARED_DATA_DIR as the absolute path of shared/data"
#endif

namespace embody {
namespace {

using models::smolvla::BpeTokenizer;
using models::smolvla::TokenizeTask;
using models::smolvla::TruncationSide;

const std::string kDir = std::string(EMBODY_SHARED_DATA_DIR) + "/smolvlm2-tokenizer";
const std::string kTokenizerJson = kDir + "/tokenizer.json";

const BpeTokenizer& Tok() {
  static const BpeTokenizer* tok = [] {
    auto r = BpeTokenizer::Load(kTokenizerJson);
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      std::abort();
    }
    return new BpeTokenizer(std::move(r).value());
  }();
  return *tok;
}

struct EncodeCase {
  const char* text;
  std::vector<int32_t> ids;
};

const EncodeCase kExtraCases[] = {
    {"Pick up the red cube and place it in the blue box on the left side of the table",
     {31413, 614, 260, 2382, 20636, 284, 1379, 357, 281, 260, 4461, 3985, 335, 260, 2049, 2103, 282, 260, 3252}},
    {"Grab the green block and put it to the right of the yellow one.",
     {55, 4183, 260, 2654, 3608, 284, 1830, 357, 288, 260, 1048, 282, 260, 5724, 582, 30}},
    {"Open the drawer, take out the spoon, and close it!",
     {14297, 260, 46520, 28, 1188, 578, 260, 21967, 28, 284, 2800, 357, 17}},
    {"Move the arm 15 cm forward; rotate 90° clockwise.",
     {27865, 260, 5026, 216, 33, 37, 5973, 3703, 43, 19087, 216, 41, 32, 4742, 34786, 30}},
    {"Fold the towel in half (twice) -- then stack it...",
     {46904, 260, 23011, 281, 2745, 365, 10372, 569, 25, 3009, 965, 10028, 357, 2026}},
    {"It's the robot's turn: don't drop it, we'll see, they've, I'm, you're, he'd, IT'S",
     {1589, 506, 260, 8085, 506, 1607, 42, 1326, 982, 5768, 357, 28, 392, 3060, 963, 28, 502, 3543, 28, 339, 5248, 28, 346, 2316, 28, 384, 6737, 28, 9627, 23, 67}},
    {"multiple   spaces    here  ",
     {30404, 256, 5600, 333, 1535, 256}},
    {"tabs\tand\nnewlines\r\n\n\nend\n",
     {100, 7366, 197, 397, 198, 2241, 5110, 201, 1116, 198, 486, 198}},
    {"Café crème brûlée, naïve façade, Ångström, Straße",
     {51, 1939, 2756, 1650, 11180, 1558, 1156, 41307, 92, 20174, 28, 15486, 46494, 40852, 28, 5549, 223, 863, 1321, 45682, 28, 19144, 34878, 85}},
    {"把红色方块放进盒子里",
     {44627, 228, 39076, 112, 179, 227, 127, 46940, 46846, 241, 36694, 139, 18276, 245, 31718, 236, 47222, 27219, 230}},
    {"ロボットがカップを持ち上げる",
     {11100, 251, 11100, 246, 11100, 221, 11100, 226, 7365, 230, 10391, 121, 11100, 221, 11100, 241, 34771, 38444, 219, 7365, 111, 40940, 7365, 236, 35323}},
    {"Положи чашку на стол",
     {155, 249, 31730, 10003, 131, 7872, 216, 22881, 6511, 37123, 13760, 14714, 40610, 21986, 8355, 31730}},
    {"ضع الكوب على الطاولة",
     {163, 131, 34966, 27819, 48934, 23939, 31462, 45704, 12667, 164, 227, 27819, 163, 132, 10805, 23939, 12667, 43463}},
    {"הרם את הכוס",
     {30552, 30825, 162, 247, 41771, 36416, 46666, 162, 245, 23970, 162, 111}},
    {"Σήκωσε το φλιτζάνι",
     {153, 113, 48438, 21118, 15759, 18751, 14240, 28880, 10589, 11446, 224, 17162, 12001, 14514, 30273, 26112, 11517, 12001}},
    {"Hindi: र\xe0\xa5\x8bब\xe0\xa5\x8bट कप उठ\xe0\xa4\xbeओ",
     {56, 526, 89, 42, 12335, 125, 42213, 4300, 122, 42213, 4300, 249, 42034, 4300, 120, 12335, 227, 4300, 250, 18075, 4300, 237}},
    {"emoji 🤖🦾👍🏽 and ❤\xef\xb8\x8f 🇫🇷",
     {391, 33777, 15107, 114, 240, 10813, 116, 139, 10813, 235, 231, 10813, 233, 138, 284, 4636, 247, 114, 31752, 15107, 225, 121, 10813, 225, 132}},
    {"<|im_start|>System: <global-img><row_1_col_1><fake_token_around_image><image><end_of_utterance>",
     {1, 18403, 42, 216, 49152, 49153, 49189, 49190, 49279}},
    {"<image><image>\n<|im_end|><|endoftext|><|reserved_special_token_87|>",
     {49190, 49190, 198, 2, 0, 49278}},
    {"<imag e> < image> <|im_start|<image",
     {44, 18788, 297, 46, 2067, 2443, 46, 2067, 108, 306, 79, 3738, 108, 44, 5028}},
    {"3.14159 and 1,000,000 and 2024-05-01",
     {35, 30, 33, 36, 33, 37, 41, 284, 216, 33, 28, 32, 32, 32, 28, 32, 32, 32, 284, 216, 34, 32, 34, 36, 29, 32, 37, 29, 32, 33}},
    {"ALL CAPS TEXT AND MixedCase camelCaseWord snake_case_word",
     {12631, 29146, 67, 48962, 7485, 34326, 10802, 32782, 10802, 21268, 14321, 79, 7544, 79, 3002}},
    {"   ",
     {333}},
    {"\xc2\xa0non-breaking\xe3\x80\x80ideographic space",
     {15442, 9033, 29, 11194, 12109, 218, 489, 4551, 1898}},
    {"Ⅻ ½ ² ٣٤ numbers",
     {173, 223, 121, 216, 16738, 216, 19133, 216, 164, 113, 164, 114, 2966}},
    {"e\xcc\x81 combining accent",
     {85, 151, 219, 9301, 20047}},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     {46880, 46880, 46880, 46880, 46880, 46880, 46880, 46880, 46880, 46880, 11510, 81}},
    {"https://example.com/path?x=1&y=2#frag",
     {4687, 1742, 7434, 30, 824, 31, 1537, 47, 104, 45, 33, 22, 105, 45, 34, 19, 28082}},
};

// 59 tokens with the newline LeRobot appends.
const char* const kLongTask =
    "Pick up the red cube from the left corner of the table, carefully move it over the blue "
    "bowl, lower it slowly, open the gripper, wait for the cube to settle, then return the arm to "
    "its home position and stop, and finally wait two seconds before the next episode begins";

struct TaskCase {
  const char* task;
  int max_length;
  bool pad_to_max_length;
  TruncationSide side;
  int dropped;
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
};

// Generated by running LeRobot 0.4.4's own SmolVLANewLineProcessor + TokenizerProcessorStep
// (padding "longest" or "max_length", padding_side "right") on AutoTokenizer for this folder
// (GPT2TokenizerFast, truncation_side "left" from tokenizer_config.json). The kRight row sets
// tokenizer.truncation_side = "right".
const TaskCase kTaskCases[] = {
    {"Pick up the cube", 48, false, TruncationSide::kLeft, 0,
     {31413, 614, 260, 20636, 198},
     {1, 1, 1, 1, 1}},
    {"Pick up the cube\n", 48, false, TruncationSide::kLeft, 0,
     {31413, 614, 260, 20636, 198},
     {1, 1, 1, 1, 1}},
    {"Put the tea bag in the mug", 48, true, TruncationSide::kLeft, 0,
     {22030, 260, 7188, 8727, 281, 260, 283, 1433, 198, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {kLongTask, 48, false, TruncationSide::kLeft, 11,
     {3252, 28, 5054, 1485, 357, 690, 260, 4461, 12505, 28, 2208, 357, 6351, 28, 1440, 260, 17201, 3115, 28, 5847, 327, 260, 20636, 288, 5767, 28, 965, 1003, 260, 5026, 288, 624, 1478, 2548, 284, 2853, 28, 284, 5087, 5847, 827, 7345, 1092, 260, 1867, 12592, 5634, 198},
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {kLongTask, 48, true, TruncationSide::kLeft, 11,
     {3252, 28, 5054, 1485, 357, 690, 260, 4461, 12505, 28, 2208, 357, 6351, 28, 1440, 260, 17201, 3115, 28, 5847, 327, 260, 20636, 288, 5767, 28, 965, 1003, 260, 5026, 288, 624, 1478, 2548, 284, 2853, 28, 284, 5087, 5847, 827, 7345, 1092, 260, 1867, 12592, 5634, 198},
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {kLongTask, 48, false, TruncationSide::kRight, 11,
     {31413, 614, 260, 2382, 20636, 429, 260, 2049, 7448, 282, 260, 3252, 28, 5054, 1485, 357, 690, 260, 4461, 12505, 28, 2208, 357, 6351, 28, 1440, 260, 17201, 3115, 28, 5847, 327, 260, 20636, 288, 5767, 28, 965, 1003, 260, 5026, 288, 624, 1478, 2548, 284, 2853, 28},
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {kLongTask, 48, true, TruncationSide::kRight, 11,
     {31413, 614, 260, 2382, 20636, 429, 260, 2049, 7448, 282, 260, 3252, 28, 5054, 1485, 357, 690, 260, 4461, 12505, 28, 2208, 357, 6351, 28, 1440, 260, 17201, 3115, 28, 5847, 327, 260, 20636, 288, 5767, 28, 965, 1003, 260, 5026, 288, 624, 1478, 2548, 284, 2853, 28},
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"Put the tea bag in the mug", 9, true, TruncationSide::kLeft, 0,
     {22030, 260, 7188, 8727, 281, 260, 283, 1433, 198},
     {1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"Put the tea bag in the mug", 8, true, TruncationSide::kLeft, 1,
     {260, 7188, 8727, 281, 260, 283, 1433, 198},
     {1, 1, 1, 1, 1, 1, 1, 1}},
    {"\n", 4, true, TruncationSide::kLeft, 0,
     {198, 2, 2, 2},
     {1, 0, 0, 0}},
    {"stack\n\n", 48, false, TruncationSide::kLeft, 0,
     {8129, 1116},
     {1, 1}},
    {"stack\r", 48, false, TruncationSide::kLeft, 0,
     {8129, 2738},
     {1, 1}},
    {"<image>grasp", 48, false, TruncationSide::kLeft, 0,
     {49190, 9861, 5352, 198},
     {1, 1, 1, 1}},
};

TEST(Tokenizer, LoadsTheSmolVLM2Vocabulary) {
  const BpeTokenizer& tok = Tok();
  EXPECT_EQ(tok.vocab_size(), 49280);
  EXPECT_EQ(tok.TokenId("<|endoftext|>"), 0);
  EXPECT_EQ(tok.TokenId("<|im_start|>"), 1);
  EXPECT_EQ(tok.TokenId("<|im_end|>"), 2);
  EXPECT_EQ(tok.TokenId("<global-img>"), 49152);
  EXPECT_EQ(tok.TokenId("<row_6_col_6>"), 49188);
  EXPECT_EQ(tok.TokenId("<image>"), 49190);
  EXPECT_EQ(tok.TokenId("<end_of_utterance>"), 49279);
  EXPECT_EQ(tok.TokenId("\xc4\xa0the"), 260);  // "Ġthe"
  EXPECT_EQ(tok.TokenId("\xc4\x8a"), 198);     // "Ċ" = "\n"
  EXPECT_FALSE(tok.TokenId("no such token").has_value());
  // transformers pads this tokenizer with <|im_end|> (special_tokens_map.json, and
  // tokenizer_config.json); LeRobot's SmolVLA therefore pads tasks with id 2.
  EXPECT_EQ(tok.pad_token(), "<|im_end|>");
  EXPECT_EQ(tok.pad_id(), 2);
}

TEST(Tokenizer, MatchesEveryTestVector) {
  std::ifstream in(kDir + "/test_vectors.json");
  ASSERT_TRUE(in) << kDir << "/test_vectors.json";
  const nlohmann::json vectors = nlohmann::json::parse(in);
  ASSERT_GE(vectors.size(), 7u);
  for (const auto& v : vectors) {
    const std::string text = v.at("text").get<std::string>();
    const auto expected = v.at("ids").get<std::vector<int32_t>>();
    EXPECT_EQ(Tok().Encode(text), expected) << "text: " << nlohmann::json(text).dump();
    if (v.value("decoded_roundtrip", false)) {
      EXPECT_EQ(Tok().Decode(expected), text);
    }
  }
}

TEST(Tokenizer, MatchesHuggingFaceOnMoreStrings) {
  ASSERT_GE(std::size(kExtraCases), 15u);
  for (const EncodeCase& c : kExtraCases) {
    EXPECT_EQ(Tok().Encode(c.text), c.ids) << "text: " << nlohmann::json(c.text).dump();
    EXPECT_EQ(Tok().Decode(c.ids), c.text);  // all of these decode back exactly in HF too
  }
}

TEST(Tokenizer, EmptyTextHasNoTokens) {
  EXPECT_TRUE(Tok().Encode("").empty());
  EXPECT_EQ(Tok().Decode({}), "");
}

TEST(Tokenizer, InvalidUtf8ReadsAsReplacementCharacters) {
  // Python's bytes.decode("utf-8", errors="replace"): one U+FFFD per maximal invalid subpart.
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(Tok().Encode("a\xe2\x82" "b"), Tok().Encode("a" + r + "b"));
  EXPECT_EQ(Tok().Encode("\xf0\x9f\x98"), Tok().Encode(r));
  EXPECT_EQ(Tok().Encode("\xed\xa0\x80x"), Tok().Encode(r + r + r + "x"));
  EXPECT_EQ(Tok().Encode("\xc0\xaf"), Tok().Encode(r + r));
  EXPECT_EQ(Tok().Encode("\xf4\x90\x80\x80"), Tok().Encode(r + r + r + r));
  EXPECT_EQ(Tok().Encode("ok\xe2\x82"), Tok().Encode("ok" + r));
  EXPECT_EQ(Tok().Encode("pick\xff<image>"), Tok().Encode("pick" + r + "<image>"));
}

TEST(Tokenizer, DecodeSkipsUnknownIds) {
  EXPECT_EQ(Tok().Decode({31413, -5, 614, 1 << 30}), "Pick up");
}

TEST(TokenizeTask, MatchesLeRobot) {
  for (const TaskCase& c : kTaskCases) {
    SCOPED_TRACE(nlohmann::json(c.task).dump() + " max_length " + std::to_string(c.max_length));
    auto r = TokenizeTask(Tok(), c.task, c.max_length, c.pad_to_max_length, c.side);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->ids, c.ids);
    EXPECT_EQ(r->mask, c.mask);
    EXPECT_EQ(r->dropped_tokens, c.dropped);
  }
}

TEST(TokenizeTask, TruncatesFromTheLeftByDefault) {
  // LeRobot's SmolVLA: 59 tokens into 48 keeps the last 48, ending with the "\n" (198).
  auto r = TokenizeTask(Tok(), kLongTask, 48, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dropped_tokens, 11);
  ASSERT_EQ(r->ids.size(), 48u);
  EXPECT_EQ(r->ids.back(), 198);
  const auto full = Tok().Encode(std::string(kLongTask) + "\n");
  ASSERT_EQ(full.size(), 59u);
  EXPECT_EQ(r->ids, std::vector<int32_t>(full.end() - 48, full.end()));
}

TEST(TokenizeTask, RejectsEmptyTaskAndBadLength) {
  auto empty = TokenizeTask(Tok(), "", 48, false);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().message(), "task text is empty");
  auto zero = TokenizeTask(Tok(), "pick", 0, true);
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("max_length"), std::string::npos);
}

TEST(Tokenizer, EncodesATaskInMicroseconds) {
  const auto t0 = std::chrono::steady_clock::now();
  auto loaded = BpeTokenizer::Load(kTokenizerJson);
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(loaded.ok());
  const std::string task =
      "Pick up the red cube from the left corner of the table, carefully move it over the blue "
      "bowl, lower it slowly, open the gripper, wait for the cube to settle, then return the arm "
      "to its home position and stop\n";
  ASSERT_EQ(loaded->Encode(task).size(), 48u);
  constexpr int kRuns = 200;
  size_t total = 0;
  const auto t2 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) total += loaded->Encode(task).size();
  const auto t3 = std::chrono::steady_clock::now();
  EXPECT_EQ(total, 48u * kRuns);
  const double load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double encode_us = std::chrono::duration<double, std::micro>(t3 - t2).count() / kRuns;
  std::printf("tokenizer.json load: %.1f ms; Encode of a 48-token task: %.1f us\n", load_ms,
              encode_us);
  RecordProperty("load_ms", std::to_string(load_ms));
  RecordProperty("encode_us", std::to_string(encode_us));
}

// ---- Small tokenizer.json files written by the test ----------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "embody_tok_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// GPT-2's bytes_to_unicode character for byte b, as UTF-8.
std::string ByteChar(int b) {
  int n = 0, cp = b;
  bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
  if (!printable) {
    for (int x = 0; x < b; ++x)
      if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// A byte-level BPE with ids 0..255 = bytes, 256 = "ab", 257 = "Ġab", and one added token. HF
// tokenizers 0.22.2 loads the same file and gives the same ids for the strings below.
nlohmann::json TinyTokenizer() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteChar(b)] = b;
  vocab["ab"] = 256;
  vocab[ByteChar(' ') + "ab"] = 257;
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       {{{"id", 258}, {"content", "<pad>"}, {"single_word", false}, {"lstrip", false},
         {"rstrip", false}, {"normalized", false}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
        {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder",
       {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true},
        {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"byte_fallback", false},
        {"vocab", vocab},
        {"merges", nlohmann::json::array({nlohmann::json::array({"a", "b"}),
                                          nlohmann::json::array({ByteChar(' '), "ab"})})}}},
  };
}

TEST(TokenizerFiles, TinyTokenizerAndPadFallbacks) {
  TempDir dir;
  const std::string path = dir.Write("tokenizer.json", TinyTokenizer().dump());
  {
    auto tok = BpeTokenizer::Load(path);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    EXPECT_EQ(tok->vocab_size(), 259);
    EXPECT_EQ(tok->Encode("abab ab<pad>x"), (std::vector<int32_t>{256, 256, 257, 258, 'x'}));
    EXPECT_EQ(tok->Decode({256, 257, 258}), "ab ab<pad>");
    EXPECT_EQ(tok->pad_id(), 0);  // no pad token anywhere and no <|endoftext|>
  }
  dir.Write("tokenizer_config.json", R"({"pad_token": "ab"})");
  {
    auto tok = BpeTokenizer::Load(path);
    ASSERT_TRUE(tok.ok());
    EXPECT_EQ(tok->pad_id(), 256);
    auto t = TokenizeTask(*tok, "ab", 4, true);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->ids, (std::vector<int32_t>{256, '\n', 256, 256}));
    EXPECT_EQ(t->mask, (std::vector<uint8_t>{1, 1, 0, 0}));
  }
  // special_tokens_map.json wins over tokenizer_config.json, as in transformers.
  dir.Write("special_tokens_map.json", R"({"pad_token": {"content": "<pad>", "lstrip": false}})");
  {
    auto tok = BpeTokenizer::Load(path);
    ASSERT_TRUE(tok.ok());
    EXPECT_EQ(tok->pad_id(), 258);
    EXPECT_EQ(tok->pad_token(), "<pad>");
  }
  dir.Write("special_tokens_map.json", R"({"pad_token": "<nope>"})");
  auto bad = BpeTokenizer::Load(path);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("special_tokens_map.json: pad_token"), std::string::npos)
      << bad.status().message();
}

TEST(TokenizerFiles, MissingFileIsNotFound) {
  const std::string path = "/nonexistent/embody/tokenizer.json";
  auto r = BpeTokenizer::Load(path);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
}

TEST(TokenizerFiles, CorruptJsonIsDataLoss) {
  TempDir dir;
  std::ifstream in(kTokenizerJson, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(text.size(), 1000u);
  const std::string path = dir.Write("tokenizer.json", text.substr(0, text.size() / 2));
  auto r = BpeTokenizer::Load(path);
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos);
}

struct BadFile {
  const char* name;
  void (*edit)(nlohmann::json&);
  StatusCode code;
  const char* field;  // must appear in the message
};

TEST(TokenizerFiles, UnsupportedOrMalformedFieldsAreNamed) {
  const BadFile cases[] = {
      {"not_an_object", [](nlohmann::json& j) { j = nlohmann::json::array(); },
       StatusCode::kInvalidArgument, "top level"},
      {"wordpiece", [](nlohmann::json& j) { j["model"]["type"] = "WordPiece"; },
       StatusCode::kUnimplemented, "model.type"},
      {"no_vocab", [](nlohmann::json& j) { j["model"].erase("vocab"); },
       StatusCode::kInvalidArgument, "model.vocab"},
      {"bad_vocab_id", [](nlohmann::json& j) { j["model"]["vocab"]["ab"] = "x"; },
       StatusCode::kInvalidArgument, "model.vocab[\"ab\"]"},
      {"merge_not_in_vocab", [](nlohmann::json& j) { j["model"]["merges"].push_back(nlohmann::json::array({"b", "a"})); },
       StatusCode::kInvalidArgument, "model.merges[2]"},
      {"bad_merge", [](nlohmann::json& j) { j["model"]["merges"][0] = 7; },
       StatusCode::kInvalidArgument, "model.merges[0]"},
      {"byte_fallback", [](nlohmann::json& j) { j["model"]["byte_fallback"] = true; },
       StatusCode::kUnimplemented, "model.byte_fallback"},
      {"normalizer", [](nlohmann::json& j) { j["normalizer"] = {{"type", "NFC"}}; },
       StatusCode::kUnimplemented, "normalizer"},
      {"metaspace",
       [](nlohmann::json& j) {
         j["pre_tokenizer"] = {{"type", "Sequence"},
                               {"pretokenizers", {{{"type", "Metaspace"}}}}};
       },
       StatusCode::kUnimplemented, "pre_tokenizer.pretokenizers[0].type"},
      {"prefix_space", [](nlohmann::json& j) { j["pre_tokenizer"]["add_prefix_space"] = true; },
       StatusCode::kUnimplemented, "pre_tokenizer.add_prefix_space"},
      {"no_pre_tokenizer", [](nlohmann::json& j) { j["pre_tokenizer"] = nullptr; },
       StatusCode::kUnimplemented, "pre_tokenizer"},
      {"template", [](nlohmann::json& j) { j["post_processor"] = {{"type", "TemplateProcessing"}}; },
       StatusCode::kUnimplemented, "post_processor.type"},
      {"truncation", [](nlohmann::json& j) { j["truncation"] = {{"max_length", 8}}; },
       StatusCode::kUnimplemented, "truncation"},
      {"added_no_id", [](nlohmann::json& j) { j["added_tokens"][0].erase("id"); },
       StatusCode::kInvalidArgument, "added_tokens[0].id"},
      {"added_bad_flag", [](nlohmann::json& j) { j["added_tokens"][0]["lstrip"] = "yes"; },
       StatusCode::kInvalidArgument, "added_tokens[0].lstrip"},
  };
  TempDir dir;
  for (const BadFile& c : cases) {
    nlohmann::json j = TinyTokenizer();
    c.edit(j);
    const std::string path = dir.Write(std::string(c.name) + ".json", j.dump());
    auto r = BpeTokenizer::Load(path);
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << c.name;
    EXPECT_NE(r.status().message().find(c.field), std::string::npos)
        << c.name << ": " << r.status().message();
  }
}

}  // namespace
}  // namespace embody

// Byte-level BPE from a Hugging Face tokenizer.json, id for id with HF tokenizers.
//
// Why hand-written: Debian packages no C++ (or C) Hugging Face tokenizer. HF tokenizers is a
// Rust crate (building it needs cargo and crates from outside Debian), tokenizers-cpp wraps that
// same crate, and Debian's libsentencepiece cannot read tokenizer.json byte-level BPE. The
// algorithm the SmolVLM2 tokenizer needs is small (added-token split, Digits, the GPT-2 regex,
// byte-to-unicode, rank-ordered merges), it runs once per task string, and writing it out lets
// every step mirror the Rust source (tokenizers/src/tokenizer/added_vocabulary.rs,
// pre_tokenizers/{digits,byte_level}.rs, models/bpe/{model,word}.rs) so the ids match exactly.
//
// Encode pipeline, as HF tokenizers runs it for this configuration:
//  1. Added tokens are cut out of the raw text: first those with normalized=false, then (there is
//     no normalizer) those with normalized=true in the pieces left over. Matching is
//     leftmost-longest over all tokens (HF's Aho-Corasick in LeftmostLongest mode), scanning on
//     from the end of each match; single_word / lstrip / rstrip as in find_matches().
//  2. Each remaining piece goes through the pre_tokenizer: Digits splits off every numeric
//     character (Rust char::is_numeric, i.e. general category N), then ByteLevel splits each
//     piece with the GPT-2 regex (Oniguruma, Unicode classes)
//       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     implemented here as a hand-written matcher that tries the alternatives in that order.
//  3. Each regex match is BPE-encoded from its UTF-8 bytes: each byte is the token of its
//     GPT-2 bytes_to_unicode character, then merges are applied lowest rank first (ties: leftmost)
//     with HF's priority-queue algorithm (Word::merge_all), stale queue entries included.
//
// Unicode classes: \p{L} and \p{N} are range tables of general categories L* and N* generated
// from Unicode 14.0 (Python 3.11 unicodedata; the script is at the tables), which is how the
// Oniguruma inside tokenizers 0.22.2 classifies; Digits (Rust, a newer Unicode) also splits off
// the numerals added since (kDigitsExtraRanges). \s is the White_Space property. Checked against
// tokenizers 0.22.2 for every code point (U+0000..U+10FFFF less surrogates, each in two
// contexts: 2.2M strings, no difference), 300k random strings mixing the tricky pieces and 96k
// lines of real source and text. What is approximate:
//  - Letters assigned after Unicode 14.0 are "other" here. A later tokenizers release built
//    against a newer Oniguruma could classify them as \p{L}; none are in common text.
//  - single_word's "word character" is taken as L, N or '_' (Rust's \w also counts combining
//    marks and connector punctuation). The SmolVLM2 added tokens do not use single_word.
//  - With rstrip, scanning resumes after the stripped whitespace (HF resumes at the token's end,
//    which differs only for an added token that itself starts with whitespace).
// Emoji and symbols are general category S* (and ZWJ/variation selectors are Cf/Mn), so they are
// exactly "other" for the regex; that is not an approximation.

#include "models/smolvla/tokenizer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>
#include <utility>

#include "io/json_file.h"

namespace embody::models::smolvla {
namespace {

using Json = nlohmann::json;  // unordered: model.vocab has ~50k keys, ordered_json is O(n^2)

// ---- Unicode classes ---------------------------------------------------------------------

struct CodeRange {
  char32_t lo, hi;
};

// Generated with Python 3.11 (unicodedata 14.0.0):
//   rs, s = [], None
//   for c in range(0x110000):
//     ok = unicodedata.category(chr(c))[0] == 'L'   # 'N' for kNumberRanges
//     if ok and s is None: s = c
//     if not ok and s is not None: rs.append((s, c - 1)); s = None
constexpr CodeRange kLetterRanges[] = {
    {0x41, 0x5A}, {0x61, 0x7A}, {0xAA, 0xAA}, {0xB5, 0xB5}, {0xBA, 0xBA}, {0xC0, 0xD6},
    {0xD8, 0xF6}, {0xF8, 0x2C1}, {0x2C6, 0x2D1}, {0x2E0, 0x2E4}, {0x2EC, 0x2EC}, {0x2EE, 0x2EE},
    {0x370, 0x374}, {0x376, 0x377}, {0x37A, 0x37D}, {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A},
    {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556},
    {0x559, 0x559}, {0x560, 0x588}, {0x5D0, 0x5EA}, {0x5EF, 0x5F2}, {0x620, 0x64A}, {0x66E, 0x66F},
    {0x671, 0x6D3}, {0x6D5, 0x6D5}, {0x6E5, 0x6E6}, {0x6EE, 0x6EF}, {0x6FA, 0x6FC}, {0x6FF, 0x6FF},
    {0x710, 0x710}, {0x712, 0x72F}, {0x74D, 0x7A5}, {0x7B1, 0x7B1}, {0x7CA, 0x7EA}, {0x7F4, 0x7F5},
    {0x7FA, 0x7FA}, {0x800, 0x815}, {0x81A, 0x81A}, {0x824, 0x824}, {0x828, 0x828}, {0x840, 0x858},
    {0x860, 0x86A}, {0x870, 0x887}, {0x889, 0x88E}, {0x8A0, 0x8C9}, {0x904, 0x939}, {0x93D, 0x93D},
    {0x950, 0x950}, {0x958, 0x961}, {0x971, 0x980}, {0x985, 0x98C}, {0x98F, 0x990}, {0x993, 0x9A8},
    {0x9AA, 0x9B0}, {0x9B2, 0x9B2}, {0x9B6, 0x9B9}, {0x9BD, 0x9BD}, {0x9CE, 0x9CE}, {0x9DC, 0x9DD},
    {0x9DF, 0x9E1}, {0x9F0, 0x9F1}, {0x9FC, 0x9FC}, {0xA05, 0xA0A}, {0xA0F, 0xA10}, {0xA13, 0xA28},
    {0xA2A, 0xA30}, {0xA32, 0xA33}, {0xA35, 0xA36}, {0xA38, 0xA39}, {0xA59, 0xA5C}, {0xA5E, 0xA5E},
    {0xA72, 0xA74}, {0xA85, 0xA8D}, {0xA8F, 0xA91}, {0xA93, 0xAA8}, {0xAAA, 0xAB0}, {0xAB2, 0xAB3},
    {0xAB5, 0xAB9}, {0xABD, 0xABD}, {0xAD0, 0xAD0}, {0xAE0, 0xAE1}, {0xAF9, 0xAF9}, {0xB05, 0xB0C},
    {0xB0F, 0xB10}, {0xB13, 0xB28}, {0xB2A, 0xB30}, {0xB32, 0xB33}, {0xB35, 0xB39}, {0xB3D, 0xB3D},
    {0xB5C, 0xB5D}, {0xB5F, 0xB61}, {0xB71, 0xB71}, {0xB83, 0xB83}, {0xB85, 0xB8A}, {0xB8E, 0xB90},
    {0xB92, 0xB95}, {0xB99, 0xB9A}, {0xB9C, 0xB9C}, {0xB9E, 0xB9F}, {0xBA3, 0xBA4}, {0xBA8, 0xBAA},
    {0xBAE, 0xBB9}, {0xBD0, 0xBD0}, {0xC05, 0xC0C}, {0xC0E, 0xC10}, {0xC12, 0xC28}, {0xC2A, 0xC39},
    {0xC3D, 0xC3D}, {0xC58, 0xC5A}, {0xC5D, 0xC5D}, {0xC60, 0xC61}, {0xC80, 0xC80}, {0xC85, 0xC8C},
    {0xC8E, 0xC90}, {0xC92, 0xCA8}, {0xCAA, 0xCB3}, {0xCB5, 0xCB9}, {0xCBD, 0xCBD}, {0xCDD, 0xCDE},
    {0xCE0, 0xCE1}, {0xCF1, 0xCF2}, {0xD04, 0xD0C}, {0xD0E, 0xD10}, {0xD12, 0xD3A}, {0xD3D, 0xD3D},
    {0xD4E, 0xD4E}, {0xD54, 0xD56}, {0xD5F, 0xD61}, {0xD7A, 0xD7F}, {0xD85, 0xD96}, {0xD9A, 0xDB1},
    {0xDB3, 0xDBB}, {0xDBD, 0xDBD}, {0xDC0, 0xDC6}, {0xE01, 0xE30}, {0xE32, 0xE33}, {0xE40, 0xE46},
    {0xE81, 0xE82}, {0xE84, 0xE84}, {0xE86, 0xE8A}, {0xE8C, 0xEA3}, {0xEA5, 0xEA5}, {0xEA7, 0xEB0},
    {0xEB2, 0xEB3}, {0xEBD, 0xEBD}, {0xEC0, 0xEC4}, {0xEC6, 0xEC6}, {0xEDC, 0xEDF}, {0xF00, 0xF00},
    {0xF40, 0xF47}, {0xF49, 0xF6C}, {0xF88, 0xF8C}, {0x1000, 0x102A}, {0x103F, 0x103F},
    {0x1050, 0x1055}, {0x105A, 0x105D}, {0x1061, 0x1061}, {0x1065, 0x1066}, {0x106E, 0x1070},
    {0x1075, 0x1081}, {0x108E, 0x108E}, {0x10A0, 0x10C5}, {0x10C7, 0x10C7}, {0x10CD, 0x10CD},
    {0x10D0, 0x10FA}, {0x10FC, 0x1248}, {0x124A, 0x124D}, {0x1250, 0x1256}, {0x1258, 0x1258},
    {0x125A, 0x125D}, {0x1260, 0x1288}, {0x128A, 0x128D}, {0x1290, 0x12B0}, {0x12B2, 0x12B5},
    {0x12B8, 0x12BE}, {0x12C0, 0x12C0}, {0x12C2, 0x12C5}, {0x12C8, 0x12D6}, {0x12D8, 0x1310},
    {0x1312, 0x1315}, {0x1318, 0x135A}, {0x1380, 0x138F}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD},
    {0x1401, 0x166C}, {0x166F, 0x167F}, {0x1681, 0x169A}, {0x16A0, 0x16EA}, {0x16F1, 0x16F8},
    {0x1700, 0x1711}, {0x171F, 0x1731}, {0x1740, 0x1751}, {0x1760, 0x176C}, {0x176E, 0x1770},
    {0x1780, 0x17B3}, {0x17D7, 0x17D7}, {0x17DC, 0x17DC}, {0x1820, 0x1878}, {0x1880, 0x1884},
    {0x1887, 0x18A8}, {0x18AA, 0x18AA}, {0x18B0, 0x18F5}, {0x1900, 0x191E}, {0x1950, 0x196D},
    {0x1970, 0x1974}, {0x1980, 0x19AB}, {0x19B0, 0x19C9}, {0x1A00, 0x1A16}, {0x1A20, 0x1A54},
    {0x1AA7, 0x1AA7}, {0x1B05, 0x1B33}, {0x1B45, 0x1B4C}, {0x1B83, 0x1BA0}, {0x1BAE, 0x1BAF},
    {0x1BBA, 0x1BE5}, {0x1C00, 0x1C23}, {0x1C4D, 0x1C4F}, {0x1C5A, 0x1C7D}, {0x1C80, 0x1C88},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1CE9, 0x1CEC}, {0x1CEE, 0x1CF3}, {0x1CF5, 0x1CF6},
    {0x1CFA, 0x1CFA}, {0x1D00, 0x1DBF}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D},
    {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4},
    {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4},
    {0x1FF6, 0x1FFC}, {0x2071, 0x2071}, {0x207F, 0x207F}, {0x2090, 0x209C}, {0x2102, 0x2102},
    {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124},
    {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2CE4}, {0x2CEB, 0x2CEE},
    {0x2CF2, 0x2CF3}, {0x2D00, 0x2D25}, {0x2D27, 0x2D27}, {0x2D2D, 0x2D2D}, {0x2D30, 0x2D67},
    {0x2D6F, 0x2D6F}, {0x2D80, 0x2D96}, {0x2DA0, 0x2DA6}, {0x2DA8, 0x2DAE}, {0x2DB0, 0x2DB6},
    {0x2DB8, 0x2DBE}, {0x2DC0, 0x2DC6}, {0x2DC8, 0x2DCE}, {0x2DD0, 0x2DD6}, {0x2DD8, 0x2DDE},
    {0x2E2F, 0x2E2F}, {0x3005, 0x3006}, {0x3031, 0x3035}, {0x303B, 0x303C}, {0x3041, 0x3096},
    {0x309D, 0x309F}, {0x30A1, 0x30FA}, {0x30FC, 0x30FF}, {0x3105, 0x312F}, {0x3131, 0x318E},
    {0x31A0, 0x31BF}, {0x31F0, 0x31FF}, {0x3400, 0x4DBF}, {0x4E00, 0xA48C}, {0xA4D0, 0xA4FD},
    {0xA500, 0xA60C}, {0xA610, 0xA61F}, {0xA62A, 0xA62B}, {0xA640, 0xA66E}, {0xA67F, 0xA69D},
    {0xA6A0, 0xA6E5}, {0xA717, 0xA71F}, {0xA722, 0xA788}, {0xA78B, 0xA7CA}, {0xA7D0, 0xA7D1},
    {0xA7D3, 0xA7D3}, {0xA7D5, 0xA7D9}, {0xA7F2, 0xA801}, {0xA803, 0xA805}, {0xA807, 0xA80A},
    {0xA80C, 0xA822}, {0xA840, 0xA873}, {0xA882, 0xA8B3}, {0xA8F2, 0xA8F7}, {0xA8FB, 0xA8FB},
    {0xA8FD, 0xA8FE}, {0xA90A, 0xA925}, {0xA930, 0xA946}, {0xA960, 0xA97C}, {0xA984, 0xA9B2},
    {0xA9CF, 0xA9CF}, {0xA9E0, 0xA9E4}, {0xA9E6, 0xA9EF}, {0xA9FA, 0xA9FE}, {0xAA00, 0xAA28},
    {0xAA40, 0xAA42}, {0xAA44, 0xAA4B}, {0xAA60, 0xAA76}, {0xAA7A, 0xAA7A}, {0xAA7E, 0xAAAF},
    {0xAAB1, 0xAAB1}, {0xAAB5, 0xAAB6}, {0xAAB9, 0xAABD}, {0xAAC0, 0xAAC0}, {0xAAC2, 0xAAC2},
    {0xAADB, 0xAADD}, {0xAAE0, 0xAAEA}, {0xAAF2, 0xAAF4}, {0xAB01, 0xAB06}, {0xAB09, 0xAB0E},
    {0xAB11, 0xAB16}, {0xAB20, 0xAB26}, {0xAB28, 0xAB2E}, {0xAB30, 0xAB5A}, {0xAB5C, 0xAB69},
    {0xAB70, 0xABE2}, {0xAC00, 0xD7A3}, {0xD7B0, 0xD7C6}, {0xD7CB, 0xD7FB}, {0xF900, 0xFA6D},
    {0xFA70, 0xFAD9}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFB1D, 0xFB1D}, {0xFB1F, 0xFB28},
    {0xFB2A, 0xFB36}, {0xFB38, 0xFB3C}, {0xFB3E, 0xFB3E}, {0xFB40, 0xFB41}, {0xFB43, 0xFB44},
    {0xFB46, 0xFBB1}, {0xFBD3, 0xFD3D}, {0xFD50, 0xFD8F}, {0xFD92, 0xFDC7}, {0xFDF0, 0xFDFB},
    {0xFE70, 0xFE74}, {0xFE76, 0xFEFC}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0xFF66, 0xFFBE},
    {0xFFC2, 0xFFC7}, {0xFFCA, 0xFFCF}, {0xFFD2, 0xFFD7}, {0xFFDA, 0xFFDC}, {0x10000, 0x1000B},
    {0x1000D, 0x10026}, {0x10028, 0x1003A}, {0x1003C, 0x1003D}, {0x1003F, 0x1004D},
    {0x10050, 0x1005D}, {0x10080, 0x100FA}, {0x10280, 0x1029C}, {0x102A0, 0x102D0},
    {0x10300, 0x1031F}, {0x1032D, 0x10340}, {0x10342, 0x10349}, {0x10350, 0x10375},
    {0x10380, 0x1039D}, {0x103A0, 0x103C3}, {0x103C8, 0x103CF}, {0x10400, 0x1049D},
    {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10500, 0x10527}, {0x10530, 0x10563},
    {0x10570, 0x1057A}, {0x1057C, 0x1058A}, {0x1058C, 0x10592}, {0x10594, 0x10595},
    {0x10597, 0x105A1}, {0x105A3, 0x105B1}, {0x105B3, 0x105B9}, {0x105BB, 0x105BC},
    {0x10600, 0x10736}, {0x10740, 0x10755}, {0x10760, 0x10767}, {0x10780, 0x10785},
    {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x10800, 0x10805}, {0x10808, 0x10808},
    {0x1080A, 0x10835}, {0x10837, 0x10838}, {0x1083C, 0x1083C}, {0x1083F, 0x10855},
    {0x10860, 0x10876}, {0x10880, 0x1089E}, {0x108E0, 0x108F2}, {0x108F4, 0x108F5},
    {0x10900, 0x10915}, {0x10920, 0x10939}, {0x10980, 0x109B7}, {0x109BE, 0x109BF},
    {0x10A00, 0x10A00}, {0x10A10, 0x10A13}, {0x10A15, 0x10A17}, {0x10A19, 0x10A35},
    {0x10A60, 0x10A7C}, {0x10A80, 0x10A9C}, {0x10AC0, 0x10AC7}, {0x10AC9, 0x10AE4},
    {0x10B00, 0x10B35}, {0x10B40, 0x10B55}, {0x10B60, 0x10B72}, {0x10B80, 0x10B91},
    {0x10C00, 0x10C48}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x10D00, 0x10D23},
    {0x10E80, 0x10EA9}, {0x10EB0, 0x10EB1}, {0x10F00, 0x10F1C}, {0x10F27, 0x10F27},
    {0x10F30, 0x10F45}, {0x10F70, 0x10F81}, {0x10FB0, 0x10FC4}, {0x10FE0, 0x10FF6},
    {0x11003, 0x11037}, {0x11071, 0x11072}, {0x11075, 0x11075}, {0x11083, 0x110AF},
    {0x110D0, 0x110E8}, {0x11103, 0x11126}, {0x11144, 0x11144}, {0x11147, 0x11147},
    {0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111B2}, {0x111C1, 0x111C4},
    {0x111DA, 0x111DA}, {0x111DC, 0x111DC}, {0x11200, 0x11211}, {0x11213, 0x1122B},
    {0x11280, 0x11286}, {0x11288, 0x11288}, {0x1128A, 0x1128D}, {0x1128F, 0x1129D},
    {0x1129F, 0x112A8}, {0x112B0, 0x112DE}, {0x11305, 0x1130C}, {0x1130F, 0x11310},
    {0x11313, 0x11328}, {0x1132A, 0x11330}, {0x11332, 0x11333}, {0x11335, 0x11339},
    {0x1133D, 0x1133D}, {0x11350, 0x11350}, {0x1135D, 0x11361}, {0x11400, 0x11434},
    {0x11447, 0x1144A}, {0x1145F, 0x11461}, {0x11480, 0x114AF}, {0x114C4, 0x114C5},
    {0x114C7, 0x114C7}, {0x11580, 0x115AE}, {0x115D8, 0x115DB}, {0x11600, 0x1162F},
    {0x11644, 0x11644}, {0x11680, 0x116AA}, {0x116B8, 0x116B8}, {0x11700, 0x1171A},
    {0x11740, 0x11746}, {0x11800, 0x1182B}, {0x118A0, 0x118DF}, {0x118FF, 0x11906},
    {0x11909, 0x11909}, {0x1190C, 0x11913}, {0x11915, 0x11916}, {0x11918, 0x1192F},
    {0x1193F, 0x1193F}, {0x11941, 0x11941}, {0x119A0, 0x119A7}, {0x119AA, 0x119D0},
    {0x119E1, 0x119E1}, {0x119E3, 0x119E3}, {0x11A00, 0x11A00}, {0x11A0B, 0x11A32},
    {0x11A3A, 0x11A3A}, {0x11A50, 0x11A50}, {0x11A5C, 0x11A89}, {0x11A9D, 0x11A9D},
    {0x11AB0, 0x11AF8}, {0x11C00, 0x11C08}, {0x11C0A, 0x11C2E}, {0x11C40, 0x11C40},
    {0x11C72, 0x11C8F}, {0x11D00, 0x11D06}, {0x11D08, 0x11D09}, {0x11D0B, 0x11D30},
    {0x11D46, 0x11D46}, {0x11D60, 0x11D65}, {0x11D67, 0x11D68}, {0x11D6A, 0x11D89},
    {0x11D98, 0x11D98}, {0x11EE0, 0x11EF2}, {0x11FB0, 0x11FB0}, {0x12000, 0x12399},
    {0x12480, 0x12543}, {0x12F90, 0x12FF0}, {0x13000, 0x1342E}, {0x14400, 0x14646},
    {0x16800, 0x16A38}, {0x16A40, 0x16A5E}, {0x16A70, 0x16ABE}, {0x16AD0, 0x16AED},
    {0x16B00, 0x16B2F}, {0x16B40, 0x16B43}, {0x16B63, 0x16B77}, {0x16B7D, 0x16B8F},
    {0x16E40, 0x16E7F}, {0x16F00, 0x16F4A}, {0x16F50, 0x16F50}, {0x16F93, 0x16F9F},
    {0x16FE0, 0x16FE1}, {0x16FE3, 0x16FE3}, {0x17000, 0x187F7}, {0x18800, 0x18CD5},
    {0x18D00, 0x18D08}, {0x1AFF0, 0x1AFF3}, {0x1AFF5, 0x1AFFB}, {0x1AFFD, 0x1AFFE},
    {0x1B000, 0x1B122}, {0x1B150, 0x1B152}, {0x1B164, 0x1B167}, {0x1B170, 0x1B2FB},
    {0x1BC00, 0x1BC6A}, {0x1BC70, 0x1BC7C}, {0x1BC80, 0x1BC88}, {0x1BC90, 0x1BC99},
    {0x1D400, 0x1D454}, {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F}, {0x1D4A2, 0x1D4A2},
    {0x1D4A5, 0x1D4A6}, {0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9}, {0x1D4BB, 0x1D4BB},
    {0x1D4BD, 0x1D4C3}, {0x1D4C5, 0x1D505}, {0x1D507, 0x1D50A}, {0x1D50D, 0x1D514},
    {0x1D516, 0x1D51C}, {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E}, {0x1D540, 0x1D544},
    {0x1D546, 0x1D546}, {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A5}, {0x1D6A8, 0x1D6C0},
    {0x1D6C2, 0x1D6DA}, {0x1D6DC, 0x1D6FA}, {0x1D6FC, 0x1D714}, {0x1D716, 0x1D734},
    {0x1D736, 0x1D74E}, {0x1D750, 0x1D76E}, {0x1D770, 0x1D788}, {0x1D78A, 0x1D7A8},
    {0x1D7AA, 0x1D7C2}, {0x1D7C4, 0x1D7CB}, {0x1DF00, 0x1DF1E}, {0x1E100, 0x1E12C},
    {0x1E137, 0x1E13D}, {0x1E14E, 0x1E14E}, {0x1E290, 0x1E2AD}, {0x1E2C0, 0x1E2EB},
    {0x1E7E0, 0x1E7E6}, {0x1E7E8, 0x1E7EB}, {0x1E7ED, 0x1E7EE}, {0x1E7F0, 0x1E7FE},
    {0x1E800, 0x1E8C4}, {0x1E900, 0x1E943}, {0x1E94B, 0x1E94B}, {0x1EE00, 0x1EE03},
    {0x1EE05, 0x1EE1F}, {0x1EE21, 0x1EE22}, {0x1EE24, 0x1EE24}, {0x1EE27, 0x1EE27},
    {0x1EE29, 0x1EE32}, {0x1EE34, 0x1EE37}, {0x1EE39, 0x1EE39}, {0x1EE3B, 0x1EE3B},
    {0x1EE42, 0x1EE42}, {0x1EE47, 0x1EE47}, {0x1EE49, 0x1EE49}, {0x1EE4B, 0x1EE4B},
    {0x1EE4D, 0x1EE4F}, {0x1EE51, 0x1EE52}, {0x1EE54, 0x1EE54}, {0x1EE57, 0x1EE57},
    {0x1EE59, 0x1EE59}, {0x1EE5B, 0x1EE5B}, {0x1EE5D, 0x1EE5D}, {0x1EE5F, 0x1EE5F},
    {0x1EE61, 0x1EE62}, {0x1EE64, 0x1EE64}, {0x1EE67, 0x1EE6A}, {0x1EE6C, 0x1EE72},
    {0x1EE74, 0x1EE77}, {0x1EE79, 0x1EE7C}, {0x1EE7E, 0x1EE7E}, {0x1EE80, 0x1EE89},
    {0x1EE8B, 0x1EE9B}, {0x1EEA1, 0x1EEA3}, {0x1EEA5, 0x1EEA9}, {0x1EEAB, 0x1EEBB},
    {0x20000, 0x2A6DF}, {0x2A700, 0x2B738}, {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1},
    {0x2CEB0, 0x2EBE0}, {0x2F800, 0x2FA1D}, {0x30000, 0x3134A},
};
constexpr CodeRange kNumberRanges[] = {
    {0x30, 0x39}, {0xB2, 0xB3}, {0xB9, 0xB9}, {0xBC, 0xBE}, {0x660, 0x669}, {0x6F0, 0x6F9},
    {0x7C0, 0x7C9}, {0x966, 0x96F}, {0x9E6, 0x9EF}, {0x9F4, 0x9F9}, {0xA66, 0xA6F}, {0xAE6, 0xAEF},
    {0xB66, 0xB6F}, {0xB72, 0xB77}, {0xBE6, 0xBF2}, {0xC66, 0xC6F}, {0xC78, 0xC7E}, {0xCE6, 0xCEF},
    {0xD58, 0xD5E}, {0xD66, 0xD78}, {0xDE6, 0xDEF}, {0xE50, 0xE59}, {0xED0, 0xED9}, {0xF20, 0xF33},
    {0x1040, 0x1049}, {0x1090, 0x1099}, {0x1369, 0x137C}, {0x16EE, 0x16F0}, {0x17E0, 0x17E9},
    {0x17F0, 0x17F9}, {0x1810, 0x1819}, {0x1946, 0x194F}, {0x19D0, 0x19DA}, {0x1A80, 0x1A89},
    {0x1A90, 0x1A99}, {0x1B50, 0x1B59}, {0x1BB0, 0x1BB9}, {0x1C40, 0x1C49}, {0x1C50, 0x1C59},
    {0x2070, 0x2070}, {0x2074, 0x2079}, {0x2080, 0x2089}, {0x2150, 0x2182}, {0x2185, 0x2189},
    {0x2460, 0x249B}, {0x24EA, 0x24FF}, {0x2776, 0x2793}, {0x2CFD, 0x2CFD}, {0x3007, 0x3007},
    {0x3021, 0x3029}, {0x3038, 0x303A}, {0x3192, 0x3195}, {0x3220, 0x3229}, {0x3248, 0x324F},
    {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF}, {0xA620, 0xA629}, {0xA6E6, 0xA6EF},
    {0xA830, 0xA835}, {0xA8D0, 0xA8D9}, {0xA900, 0xA909}, {0xA9D0, 0xA9D9}, {0xA9F0, 0xA9F9},
    {0xAA50, 0xAA59}, {0xABF0, 0xABF9}, {0xFF10, 0xFF19}, {0x10107, 0x10133}, {0x10140, 0x10178},
    {0x1018A, 0x1018B}, {0x102E1, 0x102FB}, {0x10320, 0x10323}, {0x10341, 0x10341},
    {0x1034A, 0x1034A}, {0x103D1, 0x103D5}, {0x104A0, 0x104A9}, {0x10858, 0x1085F},
    {0x10879, 0x1087F}, {0x108A7, 0x108AF}, {0x108FB, 0x108FF}, {0x10916, 0x1091B},
    {0x109BC, 0x109BD}, {0x109C0, 0x109CF}, {0x109D2, 0x109FF}, {0x10A40, 0x10A48},
    {0x10A7D, 0x10A7E}, {0x10A9D, 0x10A9F}, {0x10AEB, 0x10AEF}, {0x10B58, 0x10B5F},
    {0x10B78, 0x10B7F}, {0x10BA9, 0x10BAF}, {0x10CFA, 0x10CFF}, {0x10D30, 0x10D39},
    {0x10E60, 0x10E7E}, {0x10F1D, 0x10F26}, {0x10F51, 0x10F54}, {0x10FC5, 0x10FCB},
    {0x11052, 0x1106F}, {0x110F0, 0x110F9}, {0x11136, 0x1113F}, {0x111D0, 0x111D9},
    {0x111E1, 0x111F4}, {0x112F0, 0x112F9}, {0x11450, 0x11459}, {0x114D0, 0x114D9},
    {0x11650, 0x11659}, {0x116C0, 0x116C9}, {0x11730, 0x1173B}, {0x118E0, 0x118F2},
    {0x11950, 0x11959}, {0x11C50, 0x11C6C}, {0x11D50, 0x11D59}, {0x11DA0, 0x11DA9},
    {0x11FC0, 0x11FD4}, {0x12400, 0x1246E}, {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9},
    {0x16B50, 0x16B59}, {0x16B5B, 0x16B61}, {0x16E80, 0x16E96}, {0x1D2E0, 0x1D2F3},
    {0x1D360, 0x1D378}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9},
    {0x1E8C7, 0x1E8CF}, {0x1E950, 0x1E959}, {0x1EC71, 0x1ECAB}, {0x1ECAD, 0x1ECAF},
    {0x1ECB1, 0x1ECB4}, {0x1ED01, 0x1ED2D}, {0x1ED2F, 0x1ED3D}, {0x1F100, 0x1F10C},
    {0x1FBF0, 0x1FBF9},
};

// Numeric characters assigned after Unicode 14.0 that tokenizers' Digits pre-tokenizer (Rust's
// char::is_numeric, with the Unicode of the Rust that built tokenizers 0.22.2) splits off: found
// by running every code point through tokenizers 0.22.2. Oniguruma's \p{N} never sees them in a longer piece,
// because Digits has already isolated them.
constexpr CodeRange kDigitsExtraRanges[] = {
    {0x10D40, 0x10D49}, {0x116D0, 0x116E3}, {0x11BF0, 0x11BF9}, {0x11DE0, 0x11DE9},
    {0x11F50, 0x11F59}, {0x16130, 0x16139}, {0x16D70, 0x16D79}, {0x16FF4, 0x16FF6},
    {0x1CCF0, 0x1CCF9}, {0x1D2C0, 0x1D2D3}, {0x1E4F0, 0x1E4F9}, {0x1E5F1, 0x1E5FA},
};

bool InRanges(const CodeRange* ranges, size_t n, char32_t c) {
  const CodeRange* end = ranges + n;
  const CodeRange* it =
      std::upper_bound(ranges, end, c, [](char32_t v, const CodeRange& r) { return v < r.lo; });
  return it != ranges && c <= (it - 1)->hi;
}

bool IsLetter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return InRanges(kLetterRanges, std::size(kLetterRanges), c);
}

bool IsNumber(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return InRanges(kNumberRanges, std::size(kNumberRanges), c);
}

// The Unicode White_Space property: Oniguruma's \s and Rust's char::is_whitespace.
bool IsWhitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Rust char::is_numeric, for the Digits pre-tokenizer.
bool IsDigitsNumeric(char32_t c) {
  return IsNumber(c) ||
         (c >= 0x10000 && InRanges(kDigitsExtraRanges, std::size(kDigitsExtraRanges), c));
}

bool IsOther(char32_t c) { return !IsWhitespace(c) && !IsLetter(c) && !IsNumber(c); }

bool IsWordChar(char32_t c) { return c == '_' || IsLetter(c) || IsNumber(c); }

// ---- UTF-8 -------------------------------------------------------------------------------

// Decodes the code point at s[i] and sets *len to the bytes it used. An invalid sequence gives
// U+FFFD for its maximal subpart (the Unicode / Python "replace" / Rust from_utf8_lossy rule).
char32_t DecodeUtf8(std::string_view s, size_t i, size_t* len) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    *len = 1;
    return b0;
  }
  int need = 0;
  char32_t cp = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *len = 1;
    return 0xFFFD;
  }
  size_t k = 1;
  for (int j = 0; j < need; ++j, ++k) {
    if (i + k >= s.size()) break;
    const auto b = static_cast<uint8_t>(s[i + k]);
    if (b < lo || b > hi) break;
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
    if (j == need - 1) {
      *len = k + 1;
      return cp;
    }
  }
  *len = k;
  return 0xFFFD;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// True and untouched if `s` is valid UTF-8; otherwise *fixed gets the U+FFFD-replaced text.
bool ValidUtf8OrFix(std::string_view s, std::string* fixed) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    const char32_t c = DecodeUtf8(s, i, &len);
    if (c == 0xFFFD && !(len == 3 && s.compare(i, 3, "\xEF\xBF\xBD") == 0)) break;
    i += len;
  }
  if (i == s.size()) return true;
  fixed->assign(s.substr(0, i));
  while (i < s.size()) {
    size_t len = 0;
    AppendUtf8(DecodeUtf8(s, i, &len), fixed);
    i += len;
  }
  return false;
}

// ---- GPT-2 bytes_to_unicode ----------------------------------------------------------------

struct ByteLevelTables {
  std::array<std::string, 256> byte_to_str;  // UTF-8 of the character standing for each byte
  std::unordered_map<char32_t, uint8_t> char_to_byte;
};

const ByteLevelTables& ByteLevel() {
  static const ByteLevelTables tables = [] {
    ByteLevelTables t;
    std::array<char32_t, 256> cs{};
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      cs[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
    }
    for (int b = 0; b < 256; ++b) {
      AppendUtf8(cs[b], &t.byte_to_str[b]);
      t.char_to_byte[cs[b]] = static_cast<uint8_t>(b);
    }
    return t;
  }();
  return tables;
}

// ---- JSON fields ---------------------------------------------------------------------------

// "<file>: model" + "vocab" -> "<file>: model.vocab"; "<file>:" + "pad_token" -> "<file>: pad_token".
std::string Sub(const std::string& where, const char* key) {
  return where + (!where.empty() && where.back() == ':' ? " " : ".") + key;
}

const Json* Field(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<bool> GetBool(const Json& obj, const char* key, const std::string& where, bool dflt) {
  const Json* f = Field(obj, key);
  if (f == nullptr) return dflt;
  if (!f->is_boolean()) return InvalidArgument(Sub(where, key) + ": expected true or false");
  return f->get<bool>();
}

// Missing or null gives "".
Result<std::string> GetString(const Json& obj, const char* key, const std::string& where) {
  const Json* f = Field(obj, key);
  if (f == nullptr) return std::string();
  if (!f->is_string()) return InvalidArgument(Sub(where, key) + ": expected a string");
  return f->get<std::string>();
}

// "pad_token" as transformers writes it: a string or an AddedToken object {"content": ...}.
Result<std::string> GetTokenContent(const Json& obj, const char* key, const std::string& where) {
  const Json* f = Field(obj, key);
  if (f == nullptr) return std::string();
  if (f->is_string()) return f->get<std::string>();
  if (f->is_object()) return GetString(*f, "content", Sub(where, key));
  return InvalidArgument(Sub(where, key) + ": expected a string or {\"content\": ...}");
}

Result<Json> ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!io::FileExists(path)) return NotFound(path + ": no such file");
    return IoError(path + ": cannot open: " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError(path + ": read failed");
  try {
    return Json::parse(ss.str());
  } catch (const std::exception& e) {
    return DataLoss(path + ": not valid JSON: " + e.what());
  }
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

constexpr int32_t kMaxId = 1 << 24;  // bounds the id -> token table

}  // namespace

// ---- Load ----------------------------------------------------------------------------------

Result<BpeTokenizer> BpeTokenizer::Load(const std::string& tokenizer_json_path) {
  const std::string& p = tokenizer_json_path;
  EMBODY_ASSIGN_OR_RETURN(Json j, ReadJson(p));
  if (!j.is_object()) return InvalidArgument(p + ": expected a JSON object at the top level");
  BpeTokenizer tok;
  tok.path_ = p;

  if (const Json* n = Field(j, "normalizer")) {
    EMBODY_ASSIGN_OR_RETURN(std::string type, GetString(*n, "type", p + ": normalizer"));
    return Unimplemented(p + ": normalizer: type " + Quote(type) +
                         " is not supported (only a null normalizer)");
  }

  // pre_tokenizer: [Digits,] ByteLevel, alone or in a Sequence.
  const Json* pre = Field(j, "pre_tokenizer");
  if (pre == nullptr)
    return Unimplemented(p + ": pre_tokenizer: null is not supported (expected ByteLevel)");
  std::vector<std::pair<std::string, const Json*>> steps;
  {
    EMBODY_ASSIGN_OR_RETURN(std::string type, GetString(*pre, "type", p + ": pre_tokenizer"));
    if (type == "Sequence") {
      const Json* list = Field(*pre, "pretokenizers");
      if (list == nullptr || !list->is_array())
        return InvalidArgument(p + ": pre_tokenizer.pretokenizers: expected a list");
      for (size_t i = 0; i < list->size(); ++i)
        steps.emplace_back("pre_tokenizer.pretokenizers[" + std::to_string(i) + "]", &(*list)[i]);
    } else {
      steps.emplace_back("pre_tokenizer", pre);
    }
  }
  bool byte_level = false;
  for (const auto& [field, step] : steps) {
    const std::string where = p + ": " + field;
    EMBODY_ASSIGN_OR_RETURN(std::string type, GetString(*step, "type", where));
    if (byte_level)
      return Unimplemented(where + ": " + Quote(type) + " after ByteLevel is not supported");
    if (type == "Digits") {
      tok.digits_ = true;
      EMBODY_ASSIGN_OR_RETURN(tok.individual_digits_,
                              GetBool(*step, "individual_digits", where, false));
    } else if (type == "ByteLevel") {
      byte_level = true;
      EMBODY_ASSIGN_OR_RETURN(bool prefix, GetBool(*step, "add_prefix_space", where, true));
      EMBODY_ASSIGN_OR_RETURN(bool regex, GetBool(*step, "use_regex", where, true));
      if (prefix) return Unimplemented(where + ".add_prefix_space: true is not supported");
      if (!regex) return Unimplemented(where + ".use_regex: false is not supported");
    } else {
      return Unimplemented(where + ".type: " + Quote(type) +
                           " is not supported (only Digits and ByteLevel)");
    }
  }
  if (!byte_level)
    return Unimplemented(p + ": pre_tokenizer: no ByteLevel step (only byte-level BPE is supported)");

  // model: BPE.
  const Json* model = Field(j, "model");
  if (model == nullptr || !model->is_object())
    return InvalidArgument(p + ": model: expected an object");
  {
    const std::string where = p + ": model";
    EMBODY_ASSIGN_OR_RETURN(std::string type, GetString(*model, "type", where));
    if (type != "BPE")
      return Unimplemented(where + ".type: " + Quote(type) + " is not supported (only BPE)");
    if (const Json* d = Field(*model, "dropout"); d != nullptr && !(d->is_number() && *d == 0))
      return Unimplemented(where + ".dropout: BPE dropout is not supported");
    EMBODY_ASSIGN_OR_RETURN(bool byte_fallback, GetBool(*model, "byte_fallback", where, false));
    if (byte_fallback) return Unimplemented(where + ".byte_fallback: true is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      EMBODY_ASSIGN_OR_RETURN(std::string v, GetString(*model, key, where));
      if (!v.empty()) return Unimplemented(where + "." + key + ": " + Quote(v) + " is not supported");
    }
    EMBODY_ASSIGN_OR_RETURN(tok.ignore_merges_, GetBool(*model, "ignore_merges", where, false));
    EMBODY_ASSIGN_OR_RETURN(tok.fuse_unk_, GetBool(*model, "fuse_unk", where, false));

    const Json* vocab = Field(*model, "vocab");
    if (vocab == nullptr || !vocab->is_object())
      return InvalidArgument(where + ".vocab: expected an object {token: id}");
    tok.vocab_.reserve(vocab->size());
    int32_t max_id = -1;
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
          it.value().get<int64_t>() >= kMaxId)
        return InvalidArgument(where + ".vocab[" + Quote(it.key()) +
                               "]: expected an id in [0, 2^24)");
      const auto id = static_cast<int32_t>(it.value().get<int64_t>());
      tok.vocab_.emplace(it.key(), id);
      max_id = std::max(max_id, id);
    }
    tok.id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
    for (const auto& [token, id] : tok.vocab_) tok.id_to_token_[id] = token;

    EMBODY_ASSIGN_OR_RETURN(std::string unk, GetString(*model, "unk_token", where));
    if (!unk.empty()) {
      auto it = tok.vocab_.find(unk);
      if (it == tok.vocab_.end())
        return InvalidArgument(where + ".unk_token: " + Quote(unk) + " is not in model.vocab");
      tok.unk_id_ = it->second;
    }
    const ByteLevelTables& bl = ByteLevel();
    for (int b = 0; b < 256; ++b) {
      auto it = tok.vocab_.find(bl.byte_to_str[b]);
      tok.byte_id_[b] = it == tok.vocab_.end() ? -1 : it->second;
    }

    const Json* merges = Field(*model, "merges");
    if (merges == nullptr || !merges->is_array())
      return InvalidArgument(where + ".merges: expected a list");
    tok.merges_.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const Json& m = (*merges)[i];
      const std::string mw = where + ".merges[" + std::to_string(i) + "]";
      std::string a, b;
      if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        a = m[0].get<std::string>();
        b = m[1].get<std::string>();
      } else if (m.is_string()) {  // older "a b" form
        const std::string s = m.get<std::string>();
        const size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          return InvalidArgument(mw + ": expected \"left right\", got " + Quote(s));
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else {
        return InvalidArgument(mw + ": expected [left, right] or \"left right\"");
      }
      int32_t ids[3];
      const std::string parts[3] = {a, b, a + b};
      for (int k = 0; k < 3; ++k) {
        auto it = tok.vocab_.find(parts[k]);
        if (it == tok.vocab_.end())
          return InvalidArgument(mw + ": token " + Quote(parts[k]) + " is not in model.vocab");
        ids[k] = it->second;
      }
      // A repeated pair takes its last rank, as HF's HashMap collect does.
      tok.merges_[PairKey(ids[0], ids[1])] = Merge{static_cast<int32_t>(i), ids[2]};
    }
  }

  // added_tokens.
  if (const Json* added = Field(j, "added_tokens")) {
    if (!added->is_array()) return InvalidArgument(p + ": added_tokens: expected a list");
    for (size_t i = 0; i < added->size(); ++i) {
      const Json& a = (*added)[i];
      const std::string where = p + ": added_tokens[" + std::to_string(i) + "]";
      AddedToken t;
      const Json* id = Field(a, "id");
      if (id == nullptr || !id->is_number_integer() || id->get<int64_t>() < 0 ||
          id->get<int64_t>() >= kMaxId)
        return InvalidArgument(where + ".id: expected an id in [0, 2^24)");
      t.id = static_cast<int32_t>(id->get<int64_t>());
      EMBODY_ASSIGN_OR_RETURN(t.content, GetString(a, "content", where));
      if (t.content.empty()) return InvalidArgument(where + ".content: expected a non-empty string");
      EMBODY_ASSIGN_OR_RETURN(t.single_word, GetBool(a, "single_word", where, false));
      EMBODY_ASSIGN_OR_RETURN(t.lstrip, GetBool(a, "lstrip", where, false));
      EMBODY_ASSIGN_OR_RETURN(t.rstrip, GetBool(a, "rstrip", where, false));
      EMBODY_ASSIGN_OR_RETURN(t.normalized, GetBool(a, "normalized", where, true));
      EMBODY_ASSIGN_OR_RETURN(t.special, GetBool(a, "special", where, false));
      tok.added_by_content_[t.content] = t.id;
      tok.added_by_id_[t.id] = t.content;
      tok.added_.push_back(std::move(t));
    }
  }
  for (int32_t i = 0; i < static_cast<int32_t>(tok.added_.size()); ++i) {
    const AddedToken& t = tok.added_[i];
    AddedMatcher& m = t.normalized ? tok.normalized_matcher_ : tok.raw_matcher_;
    m.by_first_byte[static_cast<uint8_t>(t.content[0])].push_back(i);
    m.empty = false;
  }
  for (AddedMatcher* m : {&tok.raw_matcher_, &tok.normalized_matcher_}) {
    for (auto& list : m->by_first_byte)
      std::stable_sort(list.begin(), list.end(), [&](int32_t x, int32_t y) {
        return tok.added_[x].content.size() > tok.added_[y].content.size();
      });
  }
  tok.vocab_size_ = static_cast<int32_t>(tok.vocab_.size());
  for (const auto& [content, id] : tok.added_by_content_)
    if (tok.vocab_.count(content) == 0) ++tok.vocab_size_;

  // post_processor: nothing that adds ids.
  if (const Json* post = Field(j, "post_processor")) {
    EMBODY_ASSIGN_OR_RETURN(std::string type, GetString(*post, "type", p + ": post_processor"));
    if (type != "ByteLevel")
      return Unimplemented(p + ": post_processor.type: " + Quote(type) +
                           " is not supported (only null or ByteLevel, which add no ids)");
  }
  if (Field(j, "truncation") != nullptr)
    return Unimplemented(p + ": truncation: built-in truncation is not supported (must be null)");
  std::string padding_token;
  if (const Json* pad = Field(j, "padding")) {
    const Json* strategy = Field(*pad, "strategy");
    if (strategy == nullptr || !strategy->is_string() || *strategy != "BatchLongest" ||
        Field(*pad, "pad_to_multiple_of") != nullptr)
      return Unimplemented(p + ": padding: only null or BatchLongest padding is supported");
    EMBODY_ASSIGN_OR_RETURN(padding_token, GetString(*pad, "pad_token", p + ": padding"));
  }

  // The pad token, from the files transformers reads beside tokenizer.json.
  const size_t slash = p.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string() : p.substr(0, slash + 1);
  std::string pad, pad_where;
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    const std::string file = dir + name;
    if (!pad.empty() || !io::FileExists(file)) continue;
    EMBODY_ASSIGN_OR_RETURN(Json cfg, ReadJson(file));
    EMBODY_ASSIGN_OR_RETURN(pad, GetTokenContent(cfg, "pad_token", file + ":"));
    pad_where = file + ": pad_token";
  }
  if (pad.empty() && !padding_token.empty()) {
    pad = padding_token;
    pad_where = p + ": padding.pad_token";
  }
  if (!pad.empty()) {
    auto id = tok.TokenId(pad);
    if (!id) return InvalidArgument(pad_where + ": " + Quote(pad) + " is not a token");
    tok.pad_token_ = pad;
    tok.pad_id_ = *id;
  } else if (auto id = tok.TokenId("<|endoftext|>")) {
    tok.pad_token_ = "<|endoftext|>";
    tok.pad_id_ = *id;
  } else {
    tok.pad_id_ = 0;
    auto it = tok.added_by_id_.find(0);
    tok.pad_token_ = it != tok.added_by_id_.end()
                         ? it->second
                         : (tok.id_to_token_.empty() ? std::string() : tok.id_to_token_[0]);
  }
  return tok;
}

std::optional<int32_t> BpeTokenizer::TokenId(std::string_view token) const {
  const std::string key(token);
  if (auto it = added_by_content_.find(key); it != added_by_content_.end()) return it->second;
  if (auto it = vocab_.find(key); it != vocab_.end()) return it->second;
  return std::nullopt;
}

// ---- Encode --------------------------------------------------------------------------------

// HF AddedVocabulary::find_matches on each ordinary span of `in`.
void BpeTokenizer::SplitAdded(std::string_view text, const std::vector<Span>& in,
                              const AddedMatcher& m, std::vector<Span>* out) const {
  for (const Span& span : in) {
    if (span.added_id >= 0 || m.empty) {
      out->push_back(span);
      continue;
    }
    const size_t b = span.begin, e = span.end;
    size_t start_offset = b, pos = b;
    while (pos < e) {
      const AddedToken* hit = nullptr;
      for (int32_t idx : m.by_first_byte[static_cast<uint8_t>(text[pos])]) {
        const std::string& c = added_[idx].content;
        if (c.size() <= e - pos && text.compare(pos, c.size(), c) == 0) {
          hit = &added_[idx];  // longest first
          break;
        }
      }
      if (hit == nullptr) {
        ++pos;
        continue;
      }
      size_t start = pos, stop = pos + hit->content.size();
      if (hit->single_word) {
        // The characters just outside the match, within this span.
        bool word_before = false, word_after = false;
        if (start > b) {
          size_t k = start - 1;
          while (k > b && (static_cast<uint8_t>(text[k]) & 0xC0) == 0x80) --k;
          size_t len = 0;
          word_before = IsWordChar(DecodeUtf8(text.substr(0, e), k, &len));
        }
        if (stop < e) {
          size_t len = 0;
          word_after = IsWordChar(DecodeUtf8(text.substr(0, e), stop, &len));
        }
        if (word_before || word_after) {
          pos = stop;  // the Aho-Corasick iterator resumes after the rejected match
          continue;
        }
      }
      if (hit->lstrip) {
        size_t k = start;
        while (k > b) {
          size_t j = k - 1;
          while (j > b && (static_cast<uint8_t>(text[j]) & 0xC0) == 0x80) --j;
          size_t len = 0;
          if (!IsWhitespace(DecodeUtf8(text.substr(0, e), j, &len))) break;
          k = j;
        }
        start = std::max(k, start_offset);
      }
      if (hit->rstrip) {
        while (stop < e) {
          size_t len = 0;
          if (!IsWhitespace(DecodeUtf8(text.substr(0, e), stop, &len))) break;
          stop += len;
        }
      }
      if (start_offset < start) out->push_back(Span{start_offset, start, -1});
      out->push_back(Span{start, stop, hit->id});
      start_offset = stop;
      pos = stop;
    }
    if (start_offset < e) out->push_back(Span{start_offset, e, -1});
  }
}

// Digits, then the GPT-2 regex, then BPE on each match.
void BpeTokenizer::EncodeOrdinary(std::string_view text, std::vector<int32_t>* ids) const {
  std::vector<char32_t> cps;
  std::vector<size_t> off;  // byte offset of each code point, plus the end
  cps.reserve(text.size());
  off.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    cps.push_back(DecodeUtf8(text, i, &len));
    off.push_back(i);
    i += len;
  }
  off.push_back(text.size());
  const size_t n = cps.size();

  auto run = [&](size_t from, size_t end, bool (*pred)(char32_t)) {
    while (from < end && pred(cps[from])) ++from;
    return from;
  };
  // One regex match starting at i inside the piece [i, pe); returns its end.
  auto match = [&](size_t i, size_t pe) -> size_t {
    const char32_t c = cps[i];
    if (c == '\'' && i + 1 < pe) {  // 's|'t|'re|'ve|'m|'ll|'d
      const char32_t d = cps[i + 1];
      if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
      if (i + 2 < pe) {
        const char32_t f = cps[i + 2];
        if ((d == 'r' && f == 'e') || (d == 'v' && f == 'e') || (d == 'l' && f == 'l')) return i + 3;
      }
    }
    const size_t k = c == ' ' ? i + 1 : i;  // the optional leading space of the next three
    if (k < pe) {
      const char32_t d = cps[k];
      if (IsLetter(d)) return run(k, pe, IsLetter);       //  ?\p{L}+
      if (IsNumber(d)) return run(k, pe, IsNumber);       //  ?\p{N}+
      if (!IsWhitespace(d)) return run(k, pe, IsOther);   //  ?[^\s\p{L}\p{N}]+
    }
    const size_t t = run(i, pe, IsWhitespace);  // c is whitespace here
    if (t == pe || t - i == 1) return t;        // \s+(?!\S) at the end, or \s+
    return t - 1;                               // \s+(?!\S): leave the last one for the next word
  };
  auto regex_split = [&](size_t pb, size_t pe) {
    for (size_t i = pb; i < pe;) {
      const size_t j = match(i, pe);
      EncodeWord(text.substr(off[i], off[j] - off[i]), ids);
      i = j;
    }
  };

  if (!digits_) {
    regex_split(0, n);
    return;
  }
  size_t piece = 0;
  for (size_t i = 0; i < n;) {
    if (!IsDigitsNumeric(cps[i])) {
      ++i;
      continue;
    }
    if (piece < i) regex_split(piece, i);
    const size_t j = individual_digits_ ? i + 1 : run(i, n, IsDigitsNumeric);
    regex_split(i, j);
    piece = i = j;
  }
  if (piece < n) regex_split(piece, n);
}

// HF BPE::merge_word + Word::merge_all on the bytes of one pre-token.
void BpeTokenizer::EncodeWord(std::string_view bytes, std::vector<int32_t>* ids) const {
  if (bytes.empty()) return;
  if (ignore_merges_) {
    std::string s;
    for (char ch : bytes) s += ByteLevel().byte_to_str[static_cast<uint8_t>(ch)];
    if (auto it = vocab_.find(s); it != vocab_.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  // Symbols as a doubly linked list over the initial characters (one per byte).
  std::vector<int32_t> sym, prev, next;
  std::vector<uint8_t> alive;
  sym.reserve(bytes.size());
  bool pending_unk = false;
  auto add = [&](int32_t id) {
    const auto k = static_cast<int32_t>(sym.size());
    sym.push_back(id);
    prev.push_back(k - 1);
    next.push_back(k + 1);
    alive.push_back(1);
  };
  for (char ch : bytes) {
    const int32_t id = byte_id_[static_cast<uint8_t>(ch)];
    if (id >= 0) {
      if (pending_unk) add(unk_id_);
      pending_unk = false;
      add(id);
    } else if (unk_id_ >= 0) {
      if (pending_unk && !fuse_unk_) add(unk_id_);
      pending_unk = true;
    }  // no unk token: the character is dropped, as in HF
  }
  if (pending_unk) add(unk_id_);
  const auto count = static_cast<int32_t>(sym.size());
  if (count == 0) return;
  next[count - 1] = -1;

  struct Entry {
    int32_t rank, pos, new_id;
  };
  auto later = [](const Entry& x, const Entry& y) {
    return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(later)> queue(later);
  auto find = [&](int32_t a, int32_t b) -> const Merge* {
    auto it = merges_.find(PairKey(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  for (int32_t i = 0; i + 1 < count; ++i)
    if (const Merge* m = find(sym[i], sym[i + 1])) queue.push(Entry{m->rank, i, m->new_id});
  while (!queue.empty()) {
    const Entry top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const int32_t right = next[top.pos];
    const Merge* m = find(sym[top.pos], sym[right]);
    if (m == nullptr || m->new_id != top.new_id) continue;  // stale entry
    sym[top.pos] = top.new_id;
    alive[right] = 0;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    if (prev[top.pos] >= 0)
      if (const Merge* pm = find(sym[prev[top.pos]], sym[top.pos]))
        queue.push(Entry{pm->rank, prev[top.pos], pm->new_id});
    if (next[top.pos] >= 0)
      if (const Merge* nm = find(sym[top.pos], sym[next[top.pos]]))
        queue.push(Entry{nm->rank, top.pos, nm->new_id});
  }
  for (int32_t i = 0; i < count; ++i)
    if (alive[i]) ids->push_back(sym[i]);
}

std::vector<int32_t> BpeTokenizer::Encode(std::string_view text) const {
  std::string fixed;
  const std::string_view s = ValidUtf8OrFix(text, &fixed) ? text : std::string_view(fixed);
  std::vector<Span> spans{Span{0, s.size(), -1}}, tmp;
  SplitAdded(s, spans, raw_matcher_, &tmp);
  spans.swap(tmp);
  tmp.clear();
  SplitAdded(s, spans, normalized_matcher_, &tmp);
  std::vector<int32_t> ids;
  ids.reserve(s.size() / 3 + 4);
  for (const Span& span : tmp) {
    if (span.added_id >= 0)
      ids.push_back(span.added_id);
    else
      EncodeOrdinary(s.substr(span.begin, span.end - span.begin), &ids);
  }
  return ids;
}

std::string BpeTokenizer::Decode(const std::vector<int32_t>& ids) const {
  const ByteLevelTables& bl = ByteLevel();
  std::string bytes;
  for (int32_t id : ids) {
    const std::string* tok = nullptr;
    if (auto it = added_by_id_.find(id); it != added_by_id_.end())
      tok = &it->second;
    else if (id >= 0 && static_cast<size_t>(id) < id_to_token_.size() && !id_to_token_[id].empty())
      tok = &id_to_token_[id];
    if (tok == nullptr) continue;
    // ByteLevel decoder: every character back to its byte, or the token as is if one has none.
    std::string b;
    bool all = true;
    for (size_t i = 0; i < tok->size() && all;) {
      size_t len = 0;
      auto it = bl.char_to_byte.find(DecodeUtf8(*tok, i, &len));
      if (it == bl.char_to_byte.end()) all = false;
      else b.push_back(static_cast<char>(it->second));
      i += len;
    }
    bytes += all ? b : *tok;
  }
  std::string fixed;
  return ValidUtf8OrFix(bytes, &fixed) ? bytes : fixed;
}

// ---- LeRobot's task step -------------------------------------------------------------------

Result<TokenizedTask> TokenizeTask(const BpeTokenizer& tok, std::string_view task, int max_length,
                                   bool pad_to_max_length, TruncationSide truncation_side) {
  if (task.empty()) return InvalidArgument("task text is empty");
  if (max_length < 1)
    return InvalidArgument("tokenizer max_length must be >= 1, got " + std::to_string(max_length));
  std::string text(task);
  if (text.back() != '\n') text.push_back('\n');  // SmolVLANewLineProcessor
  TokenizedTask out;
  out.ids = tok.Encode(text);
  const auto limit = static_cast<size_t>(max_length);
  if (out.ids.size() > limit) {
    out.dropped_tokens = static_cast<int>(out.ids.size() - limit);
    if (truncation_side == TruncationSide::kLeft)
      out.ids.erase(out.ids.begin(), out.ids.begin() + out.dropped_tokens);
    else
      out.ids.resize(limit);
  }
  out.mask.assign(out.ids.size(), 1);
  if (pad_to_max_length) {
    out.ids.resize(limit, tok.pad_id());
    out.mask.resize(limit, 0);
  }
  return out;
}

}  // namespace embody::models::smolvla

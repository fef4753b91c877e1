#include "models/common/precision_plan.h"

#include <algorithm>

namespace embody::models {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// How specific override `pattern` is for `op_id`, or -1 when it does not apply. A pattern
// applies when it is a prefix of op_id ending at a boundary ('.', '[' or the end), where a `*`
// segment stands for any one segment of op_id. The longer pattern wins; between equal lengths,
// fewer `*` (so `layers.0.linear1` beats `layers.*.linear1`).
int64_t Specificity(std::string_view pattern, std::string_view op_id) {
  size_t i = 0, j = 0;
  int64_t stars = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '*') {
      ++stars;
      ++i;
      if (j >= op_id.size() || op_id[j] == '.') return -1;  // a segment is never empty
      while (j < op_id.size() && op_id[j] != '.' && op_id[j] != '[') ++j;
      continue;
    }
    if (j >= op_id.size() || pattern[i] != op_id[j]) return -1;
    ++i;
    ++j;
  }
  if (j != op_id.size() && op_id[j] != '.' && op_id[j] != '[') return -1;
  return static_cast<int64_t>(pattern.size()) * 64 - stars;
}

// A `*` must be a whole segment: "layers.*.linear1", not "layers.1*".
bool StarsAreSegments(std::string_view key) {
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] != '*') continue;
    if ((i > 0 && key[i - 1] != '.') || (i + 1 < key.size() && key[i + 1] != '.')) return false;
  }
  return true;
}

}  // namespace

Result<PrecisionPlan> PrecisionPlan::Parse(std::string_view text, const std::vector<std::string>& blocks) {
  PrecisionPlan plan;
  plan.block_order_ = blocks;
  for (const std::string& b : blocks) plan.block_format_[b] = kernels::WeightFormat::kF32;
  text = Trim(text);
  if (text.empty() || text == "f32") return plan;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = Trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) {
      if (comma == text.size()) break;
      return InvalidArgument("precision plan '" + std::string(text) + "': empty entry");
    }
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("precision plan entry '" + std::string(item) + "': expected <block>=<format>, e.g. " +
                             (blocks.empty() ? std::string("vision") : blocks.front()) + "=int8");
    }
    const std::string key(Trim(item.substr(0, eq)));
    const std::string value(Trim(item.substr(eq + 1)));
    auto format = kernels::ParseWeightFormat(value);
    if (!format.ok()) return format.status().WithContext("precision plan entry '" + std::string(item) + "'");
    if (key.find('.') != std::string::npos) {
      if (!StarsAreSegments(key))
        return InvalidArgument("precision plan entry '" + std::string(item) +
                               "': '*' stands for one whole layer-name segment, e.g. model.encoder.layers.*.linear1");
      plan.overrides_[key] = *format;
      plan.override_used_[key] = false;
    } else if (plan.block_format_.count(key)) {
      plan.block_format_[key] = *format;
    } else {
      return InvalidArgument("precision plan entry '" + std::string(item) + "': unknown block '" + key +
                             "'; this model's blocks are: " + Join(blocks) +
                             " (a key with a dot is a per-layer override)");
    }
    if (comma == text.size()) break;
  }
  return plan;
}

kernels::WeightFormat PrecisionPlan::For(std::string_view block, std::string_view op_id) const {
  const std::string* best = nullptr;
  int64_t best_score = -1;
  for (const auto& [pattern, format] : overrides_) {
    const int64_t score = Specificity(pattern, op_id);
    if (score > best_score) {
      best = &pattern;
      best_score = score;
    }
  }
  if (best) return overrides_.at(*best);
  auto it = block_format_.find(std::string(block));
  return it == block_format_.end() ? kernels::WeightFormat::kF32 : it->second;
}

void PrecisionPlan::MarkUsed(std::string_view op_id) const {
  for (auto& [pattern, used] : override_used_) {
    if (Specificity(pattern, op_id) >= 0) used = true;
  }
}

std::vector<std::string> PrecisionPlan::UnusedOverrides() const {
  std::vector<std::string> out;
  for (const auto& [prefix, used] : override_used_) {
    if (!used) out.push_back(prefix);
  }
  return out;
}

bool PrecisionPlan::all_f32() const {
  for (const auto& [b, f] : block_format_) {
    if (f != kernels::WeightFormat::kF32) return false;
  }
  for (const auto& [p, f] : overrides_) {
    if (f != kernels::WeightFormat::kF32) return false;
  }
  return true;
}

std::string PrecisionPlan::ToString() const {
  std::string out;
  for (const std::string& b : block_order_) {
    out += (out.empty() ? "" : ",") + b + "=" + kernels::WeightFormatName(block_format_.at(b));
  }
  for (const auto& [p, f] : overrides_) out += (out.empty() ? "" : ",") + p + "=" + kernels::WeightFormatName(f);
  return out;
}

}  // namespace embody::models

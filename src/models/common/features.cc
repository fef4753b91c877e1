#include "models/common/features.h"

namespace embody::models {

const char* FeatureTypeName(FeatureType t) {
  switch (t) {
    case FeatureType::kState: return "STATE";
    case FeatureType::kVisual: return "VISUAL";
    case FeatureType::kEnv: return "ENV";
    case FeatureType::kAction: return "ACTION";
    case FeatureType::kReward: return "REWARD";
    case FeatureType::kLanguage: return "LANGUAGE";
  }
  return "?";
}

const char* NormModeName(NormMode m) {
  switch (m) {
    case NormMode::kIdentity: return "IDENTITY";
    case NormMode::kMeanStd: return "MEAN_STD";
    case NormMode::kMinMax: return "MIN_MAX";
    case NormMode::kQuantiles: return "QUANTILES";
    case NormMode::kQuantile10: return "QUANTILE10";
  }
  return "?";
}

Result<FeatureType> ParseFeatureType(const std::string& s) {
  for (auto t : {FeatureType::kState, FeatureType::kVisual, FeatureType::kEnv, FeatureType::kAction,
                 FeatureType::kReward, FeatureType::kLanguage})
    if (s == FeatureTypeName(t)) return t;
  return InvalidArgument("unknown feature type '" + s + "'");
}

Result<NormMode> ParseNormMode(const std::string& s) {
  for (auto m : {NormMode::kIdentity, NormMode::kMeanStd, NormMode::kMinMax, NormMode::kQuantiles,
                 NormMode::kQuantile10})
    if (s == NormModeName(m)) return m;
  return InvalidArgument("unknown normalization mode '" + s + "'");
}

Result<std::vector<Feature>> ParseFeatures(const io::Json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": expected an object of features");
  std::vector<Feature> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string w = where + "." + it.key();
    const auto& v = it.value();
    if (!v.is_object() || !v.contains("type") || !v["type"].is_string())
      return InvalidArgument(w + ": expected {\"type\": ..., \"shape\": [...]}");
    Feature f;
    f.key = it.key();
    auto type = ParseFeatureType(v["type"].get<std::string>());
    if (!type.ok()) return type.status().WithContext(w);
    f.type = *type;
    if (!v.contains("shape") || !v["shape"].is_array()) return InvalidArgument(w + ".shape: expected an array");
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() <= 0)
        return InvalidArgument(w + ".shape: dims must be positive integers");
      f.shape.push_back(d.get<int64_t>());
    }
    out.push_back(std::move(f));
  }
  return out;
}

NormMode NormMapping::For(FeatureType t) const {
  switch (t) {
    case FeatureType::kVisual: return visual;
    case FeatureType::kState: return state;
    case FeatureType::kEnv: return env;
    case FeatureType::kAction: return action;
    default: return NormMode::kIdentity;
  }
}

Result<NormMapping> ParseNormMapping(const io::Json& j, const std::string& where) {
  NormMapping m;
  if (j.is_null()) return m;
  if (!j.is_object()) return InvalidArgument(where + ": expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) return InvalidArgument(where + "." + it.key() + ": expected a string");
    auto mode = ParseNormMode(it.value().get<std::string>());
    if (!mode.ok()) return mode.status().WithContext(where + "." + it.key());
    auto type = ParseFeatureType(it.key());
    if (!type.ok()) return type.status().WithContext(where);
    switch (*type) {
      case FeatureType::kVisual: m.visual = *mode; break;
      case FeatureType::kState: m.state = *mode; break;
      case FeatureType::kEnv: m.env = *mode; break;
      case FeatureType::kAction: m.action = *mode; break;
      default: break;
    }
  }
  return m;
}

}  // namespace embody::models

// LeRobot policy features and normalization modes, as config.json spells them.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"

namespace embody::models {

enum class FeatureType { kState, kVisual, kEnv, kAction, kReward, kLanguage };
enum class NormMode { kIdentity, kMeanStd, kMinMax, kQuantiles, kQuantile10 };

const char* FeatureTypeName(FeatureType t);
const char* NormModeName(NormMode m);
Result<FeatureType> ParseFeatureType(const std::string& s);
Result<NormMode> ParseNormMode(const std::string& s);

struct Feature {
  std::string key;             // e.g. "observation.images.top"
  FeatureType type;
  std::vector<int64_t> shape;  // e.g. [3, 480, 640] (C x H x W for VISUAL)
};

// Parses {"key": {"type": "VISUAL", "shape": [..]}, ...} keeping key order (camera order).
// `where` names the file and field for errors, e.g. "ckpt/config.json: input_features".
Result<std::vector<Feature>> ParseFeatures(const io::Json& j, const std::string& where);

// Parses {"VISUAL": "MEAN_STD", ...}; types not listed are IDENTITY.
struct NormMapping {
  NormMode visual = NormMode::kIdentity, state = NormMode::kIdentity, env = NormMode::kIdentity,
           action = NormMode::kIdentity;
  NormMode For(FeatureType t) const;
};
Result<NormMapping> ParseNormMapping(const io::Json& j, const std::string& where);

}  // namespace embody::models

// Compiled with -ffp-contract=off: LeRobot computes x * std + mean as two rounded float32
// operations, and so do we.
#include "models/common/normalizer.h"

#include <cmath>
#include <map>

#include "io/json_file.h"

namespace embody::models {

namespace {

// Statistic names the mode needs: {low/mean, high/std}.
std::pair<const char*, const char*> StatNames(NormMode m) {
  switch (m) {
    case NormMode::kMeanStd: return {"mean", "std"};
    case NormMode::kMinMax: return {"min", "max"};
    case NormMode::kQuantiles: return {"q01", "q99"};
    case NormMode::kQuantile10: return {"q10", "q90"};
    default: return {nullptr, nullptr};
  }
}

// Reads one statistic as a flat vector whose length must match the feature (or its channels).
Result<std::vector<float>> ReadStat(const io::SafetensorsFile& f, const std::string& name, const Feature& feat) {
  EMBODY_ASSIGN_OR_RETURN(Tensor t, f.ReadF32(name));
  const int64_t want = feat.type == FeatureType::kVisual ? feat.shape[0] : Shape(feat.shape).numel();
  if (t.numel() != want)
    return InvalidArgument(f.path() + ": '" + name + "' has shape " + t.shape().ToString() + ", expected " +
                           std::to_string(want) + " values for feature " + feat.key);
  std::vector<float> v(t.data<float>(), t.data<float>() + t.numel());
  for (float x : v)
    if (!std::isfinite(x))
      return InvalidArgument(f.path() + ": '" + name + "' holds non-finite values (stats never computed?)");
  return v;
}

Status Fill(FeatureNorm& n, const io::SafetensorsFile& f, const std::string& prefix, const Feature& feat) {
  auto [lo, hi] = StatNames(n.mode);
  if (!lo) return Status::Ok();
  if (!f.Find(prefix + lo) || !f.Find(prefix + hi)) {
    n.stats_missing = true;
    return Status::Ok();
  }
  EMBODY_ASSIGN_OR_RETURN(n.offset, ReadStat(f, prefix + lo, feat));
  EMBODY_ASSIGN_OR_RETURN(std::vector<float> second, ReadStat(f, prefix + hi, feat));
  if (n.mode == NormMode::kMeanStd) {
    n.scale = std::move(second);
  } else {
    n.scale.resize(second.size());
    for (size_t i = 0; i < second.size(); ++i) {
      const float d = second[i] - n.offset[i];
      n.scale[i] = d == 0.0f ? n.eps : d;
    }
  }
  return Status::Ok();
}

struct ProcessorStep {
  std::string state_file;
  float eps = 1e-8f;
  NormMapping mapping;
  bool has_mapping = false;
};

// Finds the step with `registry` in a policy_{pre,post}processor.json.
Result<ProcessorStep> FindStep(const std::string& path, const std::string& registry) {
  EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(path));
  if (!j.contains("steps") || !j["steps"].is_array()) return InvalidArgument(path + ": no 'steps' array");
  for (const auto& step : j["steps"]) {
    if (!step.is_object() || step.value("registry_name", "") != registry) continue;
    ProcessorStep s;
    if (!step.contains("state_file") || !step["state_file"].is_string())
      return InvalidArgument(path + ": step '" + registry + "' has no state_file");
    s.state_file = step["state_file"].get<std::string>();
    if (step.contains("config") && step["config"].is_object()) {
      const auto& c = step["config"];
      if (c.contains("eps") && c["eps"].is_number()) s.eps = c["eps"].get<float>();
      if (c.contains("norm_map")) {
        auto m = ParseNormMapping(c["norm_map"], path + ": " + registry + ".norm_map");
        if (!m.ok()) return m.status();
        s.mapping = *m;
        s.has_mapping = true;
      }
    }
    return s;
  }
  return NotFound(path + ": no '" + registry + "' step");
}

std::string Underscored(std::string key) {
  for (char& c : key)
    if (c == '.') c = '_';
  return key;
}

}  // namespace

const FeatureNorm* Normalizer::Find(const std::string& key) const {
  for (const auto& f : features_)
    if (f.key == key) return &f;
  return nullptr;
}

Result<Normalizer> Normalizer::Load(const std::string& dir, const std::vector<Feature>& inputs,
                                    const std::vector<Feature>& outputs, const NormMapping& mapping,
                                    const io::SafetensorsFile& model_file) {
  Normalizer n;
  const std::string pre = dir + "/policy_preprocessor.json";
  const std::string post = dir + "/policy_postprocessor.json";
  if (io::FileExists(pre) || io::FileExists(post)) {
    n.source_ = "processor files (LeRobot >= 0.4)";
    struct Side {
      std::string json, registry;
      const std::vector<Feature>* features;
    };
    for (const Side& side : {Side{pre, "normalizer_processor", &inputs}, Side{post, "unnormalizer_processor", &outputs}}) {
      EMBODY_ASSIGN_OR_RETURN(ProcessorStep step, FindStep(side.json, side.registry));
      EMBODY_ASSIGN_OR_RETURN(auto stats, io::SafetensorsFile::Open(dir + "/" + step.state_file));
      const NormMapping& m = step.has_mapping ? step.mapping : mapping;
      for (const Feature& feat : *side.features) {
        FeatureNorm fn{feat.key, feat.type, m.For(feat.type), {}, {}, step.eps, false};
        EMBODY_TRY(Fill(fn, *stats, feat.key + ".", feat));
        n.features_.push_back(std::move(fn));
      }
    }
    return n;
  }
  // Legacy buffers inside model.safetensors.
  bool any = false;
  for (const auto& e : model_file.entries())
    if (e.name.rfind("normalize_inputs.", 0) == 0 || e.name.rfind("unnormalize_outputs.", 0) == 0) any = true;
  if (any) n.source_ = "model.safetensors buffers (LeRobot <= 0.3)";
  struct Side {
    const char* prefix;
    const std::vector<Feature>* features;
  };
  for (const Side& side : {Side{"normalize_inputs.buffer_", &inputs}, Side{"unnormalize_outputs.buffer_", &outputs}}) {
    for (const Feature& feat : *side.features) {
      FeatureNorm fn{feat.key, feat.type, mapping.For(feat.type), {}, {}, 1e-8f, false};
      if (fn.mode != NormMode::kIdentity && !any)
        return NotFound(dir + ": feature '" + feat.key + "' is normalized with " + NormModeName(fn.mode) +
                        " but the checkpoint has no statistics (no policy_preprocessor.json, no "
                        "normalize_inputs buffers in model.safetensors)");
      EMBODY_TRY(Fill(fn, model_file, side.prefix + Underscored(feat.key) + ".", feat));
      if (fn.stats_missing)
        return NotFound(model_file.path() + ": missing " + side.prefix + Underscored(feat.key) +
                        ".* statistics for feature '" + feat.key + "'");
      n.features_.push_back(std::move(fn));
    }
  }
  return n;
}

void Normalizer::CopyStats(const std::string& from, const std::string& to) {
  const FeatureNorm* src = Find(from);
  if (!src) return;
  FeatureNorm copy = *src;
  copy.key = to;
  for (auto& f : features_)
    if (f.key == to) {
      f = copy;
      return;
    }
  features_.push_back(copy);
}

void Normalizer::Normalize(const FeatureNorm& f, float* x, int64_t n, int64_t inner) {
  if (f.mode == NormMode::kIdentity || f.stats_missing) return;
  for (int64_t i = 0; i < n; ++i) {
    const size_t s = static_cast<size_t>(i / inner);
    if (f.mode == NormMode::kMeanStd) {
      x[i] = (x[i] - f.offset[s]) / (f.scale[s] + f.eps);
    } else {
      x[i] = 2.0f * (x[i] - f.offset[s]) / f.scale[s] - 1.0f;
    }
  }
}

void Normalizer::Unnormalize(const FeatureNorm& f, float* x, int64_t n, int64_t inner) {
  if (f.mode == NormMode::kIdentity || f.stats_missing) return;
  for (int64_t i = 0; i < n; ++i) {
    const size_t s = static_cast<size_t>(i / inner);
    if (f.mode == NormMode::kMeanStd) {
      x[i] = x[i] * f.scale[s] + f.offset[s];
    } else if (f.mode == NormMode::kMinMax) {
      x[i] = (x[i] + 1.0f) / 2.0f * f.scale[s] + f.offset[s];
    } else {
      x[i] = (x[i] + 1.0f) * f.scale[s] / 2.0f + f.offset[s];
    }
  }
}

}  // namespace embody::models

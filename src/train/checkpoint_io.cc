#include "train/checkpoint_io.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>

#include "io/safetensors.h"

namespace embody::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPostFile = "policy_postprocessor_step_0_unnormalizer_processor.safetensors";

Tensor Vec(const std::vector<float>& v) {
  Tensor t = Tensor::Empty(DType::kF32, {static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

io::Json Feature(const char* type, std::vector<int64_t> shape) { return {{"type", type}, {"shape", shape}}; }

// ACT's preprocessor has the normalizer as step 3; SmolVLA's as step 5 (after its newline and
// tokenizer steps): LeRobot names the state file after the step's index.
std::string PreFile(bool smolvla) {
  return std::string("policy_preprocessor_step_") + (smolvla ? "5" : "3") + "_normalizer_processor.safetensors";
}

io::Json NormalizerStep(const char* registry, const TrainFeatures& f, bool inputs, const std::string& file,
                        bool smolvla) {
  io::Json features = io::Json::object();
  if (inputs) {
    if (f.state_dim > 0) features["observation.state"] = Feature("STATE", {f.state_dim});
    if (f.env_state_dim > 0) features["observation.environment_state"] = Feature("ENV", {f.env_state_dim});
    for (const std::string& cam : f.cameras) features[cam] = Feature("VISUAL", {3, f.height, f.width});
  }
  features["action"] = Feature("ACTION", {f.action_dim});
  return {{"registry_name", registry},
          {"config", {{"eps", 1e-8}, {"features", features},
                      {"norm_map", {{"VISUAL", smolvla ? "IDENTITY" : "MEAN_STD"}, {"STATE", "MEAN_STD"},
                                    {"ENV", "MEAN_STD"}, {"ACTION", "MEAN_STD"}}}}},
          {"state_file", file}};
}

Status SyncDir(const std::string& dir) {
  FILE* f = std::fopen(dir.c_str(), "r");
  if (!f) return Status::Ok();  // best effort: some filesystems do not open directories
  ::fsync(fileno(f));
  std::fclose(f);
  return Status::Ok();
}

}  // namespace

std::string StepName(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(step));
  return buf;
}

std::string CheckpointDir(const std::string& output, int64_t step) {
  return output + "/checkpoints/" + StepName(step);
}

Status WritePretrainedModel(const std::string& dir, const io::Json& config, const TrainFeatures& f,
                            const DatasetStats& stats, const NamedTensors& weights, const io::Json& train_config) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError(dir + ": cannot create directory: " + ec.message());
  EMBODY_TRY(io::WriteJsonFile(dir + "/config.json", config));
  {
    io::SafetensorsWriter w;
    w.SetMetadata("format", "pt");
    for (const auto& [name, t] : weights) w.Add(name, t);
    EMBODY_TRY(w.Write(dir + "/model.safetensors"));
  }
  const bool smolvla = config.value("type", std::string()) == "smolvla";
  const std::string pre_file = PreFile(smolvla);
  // Every stat LeRobot stores for a low-dimensional feature, and (ACT, use_imagenet_stats)
  // ImageNet's mean/std per camera ([3,1,1]); SmolVLA's images are not normalized (IDENTITY).
  std::vector<std::pair<std::string, Tensor>> s;
  for (const auto& [key, st] : stats) {
    s.emplace_back(key + ".mean", Vec(st.mean));
    s.emplace_back(key + ".std", Vec(st.std));
    s.emplace_back(key + ".min", Vec(st.min));
    s.emplace_back(key + ".max", Vec(st.max));
    Tensor count = Tensor::Empty(DType::kI64, {1});
    count.data<int64_t>()[0] = st.count;
    s.emplace_back(key + ".count", count);
  }
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  for (const std::string& cam : smolvla ? std::vector<std::string>{} : f.cameras) {
    Tensor m = Tensor::Empty(DType::kF32, {3, 1, 1}), d = Tensor::Empty(DType::kF32, {3, 1, 1});
    for (int i = 0; i < 3; ++i) {
      m.data<float>()[i] = mean[i];
      d.data<float>()[i] = std[i];
    }
    s.emplace_back(cam + ".mean", m);
    s.emplace_back(cam + ".std", d);
  }
  for (const std::string& file : {pre_file, std::string(kPostFile)}) {
    io::SafetensorsWriter w;
    for (const auto& [name, t] : s) w.Add(name, t);
    EMBODY_TRY(w.Write(dir + "/" + file));
  }
  const io::Json device = {{"registry_name", "device_processor"}, {"config", {{"device", "cpu"}, {"float_dtype", nullptr}}}};
  io::Json pre_steps = {{{"registry_name", "rename_observations_processor"}, {"config", {{"rename_map", io::Json::object()}}}},
                        {{"registry_name", "to_batch_processor"}, {"config", io::Json::object()}}};
  if (smolvla) {
    pre_steps.push_back({{"registry_name", "smolvla_new_line_processor"}, {"config", io::Json::object()}});
    pre_steps.push_back({{"registry_name", "tokenizer_processor"},
                         {"config", {{"max_length", config.value("tokenizer_max_length", 48)},
                                     {"task_key", "task"}, {"padding_side", "right"},
                                     {"padding", config.value("pad_language_to", std::string("longest"))},
                                     {"truncation", true},
                                     {"tokenizer_name", config.value("vlm_model_name", std::string())}}}});
  }
  pre_steps.push_back(device);
  pre_steps.push_back(NormalizerStep("normalizer_processor", f, true, pre_file, smolvla));
  const io::Json pre = {{"name", "policy_preprocessor"}, {"steps", pre_steps}};
  const io::Json post = {{"name", "policy_postprocessor"},
                         {"steps", {NormalizerStep("unnormalizer_processor", f, false, kPostFile, smolvla), device}}};
  EMBODY_TRY(io::WriteJsonFile(dir + "/policy_preprocessor.json", pre));
  EMBODY_TRY(io::WriteJsonFile(dir + "/policy_postprocessor.json", post));
  EMBODY_TRY(io::WriteJsonFile(dir + "/train_config.json", train_config));
  return Status::Ok();
}

Result<DatasetStats> ReadStats(const std::string& dir, const TrainFeatures& f) {
  // The normalizer's state file as the preprocessor names it (its step index differs by policy).
  std::string pre_file = PreFile(false);
  if (auto pre = io::ReadJsonFile(dir + "/policy_preprocessor.json"); pre.ok() && (*pre).contains("steps"))
    for (const auto& step : (*pre)["steps"])
      if (step.value("registry_name", std::string()) == "normalizer_processor" && step.contains("state_file"))
        pre_file = step["state_file"].get<std::string>();
  EMBODY_ASSIGN_OR_RETURN(auto file, io::SafetensorsFile::Open(dir + "/" + pre_file));
  DatasetStats stats;
  std::vector<std::pair<std::string, int>> keys = {{"action", f.action_dim}};
  if (f.state_dim > 0) keys.emplace_back("observation.state", f.state_dim);
  if (f.env_state_dim > 0) keys.emplace_back("observation.environment_state", f.env_state_dim);
  for (const auto& [key, dim] : keys) {
    FeatureStats& st = stats[key];
    const Shape shape{dim};
    for (auto [stat, out] : {std::pair{".mean", &st.mean}, {".std", &st.std}, {".min", &st.min}, {".max", &st.max}}) {
      EMBODY_ASSIGN_OR_RETURN(Tensor t, file->ReadF32(key + stat, &shape));
      out->assign(t.data<float>(), t.data<float>() + dim);
    }
    if (const auto* e = file->Find(key + ".count"); e && e->dtype == DType::kI64 && e->nbytes == 8) {
      EMBODY_ASSIGN_OR_RETURN(Tensor c, file->View(key + ".count"));
      st.count = c.data<int64_t>()[0];
    }
  }
  return stats;
}

Status WriteTrainingState(const std::string& dir, const TrainingState& s) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError(dir + ": cannot create directory: " + ec.message());
  EMBODY_TRY(io::WriteJsonFile(dir + "/training_step.json", io::Json{{"step", s.step}}));
  {
    io::SafetensorsWriter w;
    for (const auto& [name, t] : s.optimizer) w.Add(name, t);
    EMBODY_TRY(w.Write(dir + "/optimizer_state.safetensors"));
  }
  EMBODY_TRY(io::WriteJsonFile(dir + "/optimizer_param_groups.json", s.param_groups));
  if (!s.scheduler.is_null()) EMBODY_TRY(io::WriteJsonFile(dir + "/scheduler_state.json", s.scheduler));
  io::SafetensorsWriter w;
  for (const auto& [name, t] : s.rng) w.Add(name, t);
  return w.Write(dir + "/rng_state.safetensors");
}

Result<TrainingState> ReadTrainingState(const std::string& dir) {
  TrainingState s;
  EMBODY_ASSIGN_OR_RETURN(io::Json step, io::ReadJsonFile(dir + "/training_step.json"));
  if (!step.contains("step") || !step["step"].is_number_integer())
    return DataLoss(dir + "/training_step.json: no integer 'step'");
  s.step = step["step"].get<int64_t>();
  EMBODY_ASSIGN_OR_RETURN(s.param_groups, io::ReadJsonFile(dir + "/optimizer_param_groups.json"));
  if (io::FileExists(dir + "/scheduler_state.json")) {
    EMBODY_ASSIGN_OR_RETURN(s.scheduler, io::ReadJsonFile(dir + "/scheduler_state.json"));
  }
  for (auto [file, out] : {std::pair{"/optimizer_state.safetensors", &s.optimizer}, {"/rng_state.safetensors", &s.rng}}) {
    EMBODY_ASSIGN_OR_RETURN(auto f, io::SafetensorsFile::Open(dir + file));
    for (const io::TensorEntry& e : f->entries()) {
      EMBODY_ASSIGN_OR_RETURN(Tensor view, f->View(e.name));
      out->emplace_back(e.name, view.Clone());
    }
  }
  return s;
}

Status PublishCheckpoint(const std::string& output, int64_t step,
                         const std::function<Status(const std::string& staging)>& write) {
  const std::string root = output + "/checkpoints", final_dir = CheckpointDir(output, step);
  const std::string staging = final_dir + ".partial";
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return IoError(staging + ": cannot create directory: " + ec.message());
  EMBODY_TRY(write(staging));
  EMBODY_TRY(SyncDir(staging));
  fs::remove_all(final_dir, ec);  // a re-run of the same step replaces it
  fs::rename(staging, final_dir, ec);
  if (ec) return IoError(final_dir + ": cannot publish checkpoint: " + ec.message());
  const std::string tmp_link = root + "/last.tmp";
  fs::remove(tmp_link, ec);
  fs::create_directory_symlink(StepName(step), tmp_link, ec);
  if (ec) return IoError(tmp_link + ": cannot create link: " + ec.message());
  fs::rename(tmp_link, root + "/last", ec);
  if (ec) return IoError(root + "/last: cannot replace link: " + ec.message());
  return SyncDir(root);
}

Result<int64_t> LastCheckpointStep(const std::string& output) {
  const std::string link = output + "/checkpoints/last";
  std::error_code ec;
  const fs::path target = fs::read_symlink(link, ec);
  if (ec) return NotFound(link + ": no checkpoint to resume from (" + ec.message() + ")");
  try {
    size_t used = 0;
    const int64_t step = std::stoll(target.filename().string(), &used);
    if (used != target.filename().string().size()) throw std::invalid_argument("trailing");
    return step;
  } catch (const std::exception&) {
    return DataLoss(link + ": points at '" + target.string() + "', not a step number");
  }
}

std::vector<int64_t> ListCheckpoints(const std::string& output) {
  std::vector<int64_t> steps;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(output + "/checkpoints", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos || e.is_symlink()) continue;
    if (!fs::exists(e.path() / "pretrained_model" / "model.safetensors")) continue;
    steps.push_back(std::stoll(name));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

Status CheckCheckpointFeatures(const TrainFeatures& have, const TrainFeatures& want, const std::string& where) {
  if (have.cameras != want.cameras || have.height != want.height || have.width != want.width ||
      have.state_dim != want.state_dim || have.env_state_dim != want.env_state_dim ||
      have.action_dim != want.action_dim)
    return InvalidArgument(where + ": the checkpoint's features (cameras, image size, state/environment/action widths) differ "
                                   "from the dataset's");
  return Status::Ok();
}

}  // namespace embody::train

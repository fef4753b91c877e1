// embody infer <checkpoint> --image cam=path.png ... --state ...: one action chunk.
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/policy_type.h"
#include "cli/smolvla_commands.h"
#include "core/seeded.h"
#include "io/image.h"
#include "models/act/act_model.h"

namespace embody::cli {

namespace {

struct InferArgs {
  std::string checkpoint;
  std::vector<std::string> images;
  std::string state, env_state;
  bool seeded_inputs = false;
  int step = 0;
  int threads = 0;
  std::string backend = "onednn";
  bool json = false;
  bool normalized = false;
  bool direct_conv = false;
  std::string task, tokenizer, position_ids = "exact", plan;
  uint64_t noise_seed = 0;
  bool truncate_task = false;
};

int RunInfer(const InferArgs& a) {
  using namespace models::act;
  auto type = PolicyType(a.checkpoint);
  if (!type.ok()) return Fail(type.status());
  if (*type == "smolvla") {
    SmolVlaInferArgs s;
    s.checkpoint = a.checkpoint;
    s.task = a.task;
    s.state = a.state;
    s.tokenizer = a.tokenizer;
    s.backend = a.backend;
    s.images = a.images;
    s.seeded_inputs = a.seeded_inputs;
    s.json = a.json;
    s.normalized = a.normalized;
    s.step = a.step;
    s.threads = a.threads;
    s.noise_seed = a.noise_seed;
    s.position_ids = a.position_ids;
    s.plan = a.plan;
    s.truncate_task = a.truncate_task;
    return RunInferSmolVla(s);
  }
  auto backend = kernels::ParseBackend(a.backend);
  if (!backend.ok()) return Fail(backend.status());
  ActOptions opt;
  opt.backend = *backend;
  opt.threads = a.threads;
  opt.winograd = !a.direct_conv;
  opt.plan = a.plan;
  auto model = ActModel::Load(a.checkpoint, opt);
  if (!model.ok()) return Fail(model.status());
  const ActConfig& c = (*model)->config();

  auto loaded_images = LoadCameraImages(a.images);
  if (!loaded_images.ok()) return Fail(loaded_images.status());
  std::map<std::string, io::Image> by_camera = std::move(*loaded_images);
  ActObservation obs;
  for (size_t i = 0; i < c.num_cameras(); ++i) {
    const auto& cam = c.camera(i);
    if (a.seeded_inputs)
      by_camera[cam.key] = SeededImage(a.step, cam.key, static_cast<int>(cam.shape[1]), static_cast<int>(cam.shape[2]));
    auto it = by_camera.find(cam.key);
    if (it == by_camera.end())
      return Fail(InvalidArgument("no image for camera " + cam.key + " (pass --image " +
                                  cam.key.substr(std::string("observation.images.").size()) + "=PATH)"));
    obs.images.push_back({it->second.pixels.data(), it->second.height, it->second.width});
  }
  for (const auto& [cam, img] : by_camera) {
    bool known = false;
    for (size_t i = 0; i < c.num_cameras(); ++i) known |= c.camera(i).key == cam;
    if (!known) return Fail(InvalidArgument("--image: the checkpoint has no camera " + cam));
  }
  std::vector<float> state(static_cast<size_t>(c.state_dim()));
  if (c.state_dim() > 0) {
    if (a.seeded_inputs) {
      seeded::FillState(a.step, static_cast<int>(c.state_dim()), state.data());
    } else {
      auto parsed = ParseInputVector(a.state, "--state", c.state_dim(), "observation.state");
      if (!parsed.ok()) return Fail(parsed.status());
      state = *parsed;
    }
    obs.state = state.data();
  }
  std::vector<float> env_state;
  if (c.env_state_dim() > 0) {
    auto parsed = ParseInputVector(a.env_state, "--env-state", c.env_state_dim(), "observation.environment_state");
    if (!parsed.ok()) return Fail(parsed.status());
    env_state = *parsed;
    obs.env_state = env_state.data();
  } else if (!a.env_state.empty()) {
    return Fail(InvalidArgument("--env-state: the checkpoint has no observation.environment_state"));
  }
  const int64_t n = c.chunk_size * c.action_dim();
  std::vector<float> actions(static_cast<size_t>(n)), normalized(static_cast<size_t>(n));
  if (Status st = (*model)->Predict(obs, actions.data(), normalized.data()); !st.ok()) return Fail(st);
  const auto& t = (*model)->last_times();
  const auto& shown = a.normalized ? normalized : actions;
  if (a.json) {
    io::Json chunk = io::Json::array();
    for (int64_t i = 0; i < c.chunk_size; ++i)
      chunk.push_back(std::vector<float>(shown.begin() + i * c.action_dim(), shown.begin() + (i + 1) * c.action_dim()));
    PrintJson({{"chunk_size", c.chunk_size},
               {"action_dim", c.action_dim()},
               {"units", a.normalized ? "normalized" : "robot"},
               {"actions", chunk},
               {"latency_ms", {{"total", t.total_ms}, {"backbone", t.backbone_ms}, {"encoder", t.encoder_ms}, {"decoder", t.decoder_ms}}}});
    return 0;
  }
  std::printf("action chunk: %d x %lld (%s units), %.1f ms\n", c.chunk_size, static_cast<long long>(c.action_dim()),
              a.normalized ? "normalized" : "robot", t.total_ms);
  for (int64_t i = 0; i < c.chunk_size; ++i) {
    std::printf("%4lld:", static_cast<long long>(i));
    for (int64_t j = 0; j < c.action_dim(); ++j) std::printf(" %10.4f", static_cast<double>(shown[static_cast<size_t>(i * c.action_dim() + j)]));
    std::printf("\n");
  }
  return 0;
}

}  // namespace

void RegisterInfer(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<InferArgs>();
  CLI::App* sub = app.add_subcommand("infer", "Run a checkpoint once on camera images and a state; print the action chunk");
  sub->add_option("checkpoint", a->checkpoint, "pretrained_model folder")->required();
  sub->add_option("--image", a->images, "CAMERA=PATH (PNG/JPEG, RGB, the trained size), once per camera");
  sub->add_option("--state", a->state, "observation.state as comma-separated values, robot units");
  sub->add_option("--env-state", a->env_state, "observation.environment_state as comma-separated values (ACT)");
  sub->add_option("--task", a->task, "SmolVLA: the instruction, e.g. \"put the tea bag in the mug\"");
  sub->add_option("--tokenizer", a->tokenizer, "SmolVLA: tokenizer.json (default: <checkpoint>/tokenizer/)");
  sub->add_option("--siglip-position-ids", a->position_ids,
                  "SmolVLA: exact (as SmolVLM was trained) or transformers-fp32 (what LeRobot 0.4.4 runs in float32)");
  sub->add_flag("--truncate-task", a->truncate_task, "SmolVLA: keep the last tokenizer_max_length tokens of a long task");
  sub->add_option("--noise-seed", a->noise_seed, "SmolVLA: seed of the flow-matching noise (seeded rule, key noise.<seed>)");
  sub->add_flag("--seeded-inputs", a->seeded_inputs, "Use the seeded test images and state (docs/formats/seeded-weights.md)");
  sub->add_option("--step", a->step, "Step index for --seeded-inputs");
  sub->add_option("--threads", a->threads, "Threads (default: all cores)");
  sub->add_option("--backend", a->backend, "Kernel backend: onednn or reference");
  sub->add_flag("--direct-conv", a->direct_conv, "Direct 3x3 convolutions instead of Winograd");
  sub->add_option("--plan", a->plan, "Precision per block, e.g. backbone=int8,encoder=int8 (see embody quantize --help)");
  sub->add_flag("--normalized", a->normalized, "Print normalized actions instead of robot units");
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([a, &run] { run = [a] { return RunInfer(*a); }; });
}

}  // namespace embody::cli

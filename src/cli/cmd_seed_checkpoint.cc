// embody seed-checkpoint -o DIR: a LeRobot-layout ACT checkpoint with seeded weights, for demos
// and benchmarks where real weights cannot be downloaded.
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "models/act/act_seeded_checkpoint.h"
#include "models/smolvla/smolvla_seeded_checkpoint.h"

namespace embody::cli {

namespace {
struct SeedArgs {
  std::string out;
  std::string policy = "act";
  std::string tokenizer_dir;
  std::vector<std::string> cameras;  // empty: the policy's default camera names
  int vlm_layers = 16;
  models::act::SeededActSpec spec;
  std::string dtype = "f32";
  std::string layout = "processor";
};

int RunSeed(SeedArgs a) {
  if (a.policy == "smolvla") {
    models::smolvla::SeededSmolVlaSpec s;
    if (!a.cameras.empty()) s.cameras = a.cameras;
    s.height = a.spec.height;
    s.width = a.spec.width;
    s.state_dim = a.spec.state_dim;
    s.action_dim = a.spec.action_dim;
    s.num_vlm_layers = a.vlm_layers;
    s.tokenizer_dir = a.tokenizer_dir;
    if (s.tokenizer_dir.empty()) return Fail(InvalidArgument("--tokenizer-dir is required for smolvla (a folder with tokenizer.json)"));
    if (Status st = models::smolvla::WriteSeededSmolVlaCheckpoint(a.out, s); !st.ok()) return Fail(st);
    std::printf("wrote seeded SmolVLA checkpoint to %s\n", a.out.c_str());
    return 0;
  }
  if (a.policy != "act") return Fail(InvalidArgument("--policy must be act or smolvla"));
  if (!a.cameras.empty()) a.spec.cameras = a.cameras;
  if (a.dtype != "f32" && a.dtype != "bf16") return Fail(InvalidArgument("--dtype must be f32 or bf16"));
  if (a.layout != "processor" && a.layout != "legacy") return Fail(InvalidArgument("--layout must be processor or legacy"));
  a.spec.bf16 = a.dtype == "bf16";
  a.spec.legacy_layout = a.layout == "legacy";
  if (Status st = models::act::WriteSeededActCheckpoint(a.out, a.spec); !st.ok()) return Fail(st);
  std::printf("wrote seeded ACT checkpoint to %s\n", a.out.c_str());
  return 0;
}
}  // namespace

void RegisterSeedCheckpoint(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<SeedArgs>();
  CLI::App* sub = app.add_subcommand("seed-checkpoint", "Write an ACT or SmolVLA checkpoint with seeded weights (LeRobot layout)");
  sub->add_option("-o,--out", a->out, "Output folder")->required();
  sub->add_option("--policy", a->policy, "act or smolvla");
  sub->add_option("--tokenizer-dir", a->tokenizer_dir, "smolvla: folder with the SmolVLM2 tokenizer.json");
  sub->add_option("--vlm-layers", a->vlm_layers, "smolvla: num_vlm_layers");
  sub->add_option("--cameras", a->cameras, "Camera names (act: top,gripper,left; smolvla: camera1,camera2,camera3)")
      ->delimiter(',');
  sub->add_option("--height", a->spec.height, "Image height");
  sub->add_option("--width", a->spec.width, "Image width");
  sub->add_option("--state-dim", a->spec.state_dim, "observation.state size (0: none)");
  sub->add_option("--action-dim", a->spec.action_dim, "action size");
  sub->add_option("--chunk-size", a->spec.chunk_size, "chunk_size");
  sub->add_option("--n-action-steps", a->spec.n_action_steps, "n_action_steps");
  sub->add_option("--dtype", a->dtype, "f32 or bf16");
  sub->add_option("--layout", a->layout, "Normalization stats: processor (LeRobot >= 0.4) or legacy (<= 0.3)");
  sub->add_option("--seed", a->spec.seed, "Base seed");
  sub->callback([a, &run] { run = [a] { return RunSeed(*a); }; });
}

}  // namespace embody::cli

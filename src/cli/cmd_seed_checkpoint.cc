// embody seed-checkpoint -o DIR: a LeRobot-layout ACT checkpoint with seeded weights, for demos
// and benchmarks where real weights cannot be downloaded.
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "models/act/act_seeded_checkpoint.h"

namespace embody::cli {

namespace {
struct SeedArgs {
  std::string out;
  models::act::SeededActSpec spec;
  std::string dtype = "f32";
  std::string layout = "processor";
};

int RunSeed(SeedArgs a) {
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
  CLI::App* sub = app.add_subcommand("seed-checkpoint", "Write an ACT checkpoint with seeded weights (LeRobot layout)");
  sub->add_option("-o,--out", a->out, "Output folder")->required();
  sub->add_option("--cameras", a->spec.cameras, "Camera names")->delimiter(',');
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

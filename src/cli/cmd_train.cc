// embody train: ACT and SmolVLA training on libtorch (issue 8, docs/training.md). Data from a LeRobot dataset
// (--dataset) or straight from the simulation's scripted expert (--sim-episodes, in memory);
// checkpoints in LeRobot's layout; --resume after a kill; --select-by success evaluates every
// checkpoint in the simulation (by running `embody eval`, see sibling.h) and reports the best next
// to its validation loss. Built into embody-train; `embody train` execs it.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "train/act_trainer.h"
#include "train/checkpoint_io.h"
#include "train/eval/eval_summary.h"
#include "train/smolvla_trainer.h"
#ifdef EMBODY_HAVE_SIM
#include "train/sim_episodes.h"
#endif
#include "cli/sibling.h"
#ifdef EMBODY_HAVE_DATA_SOURCE
#include "train/dataset_source.h"
#endif

namespace embody::cli {

namespace {

struct TrainArgs {
  std::string policy = "act", dataset, output, init_from, select_by = "none";
  int sim_episodes = 0, sim_val_episodes = 0, sim_height = 96, sim_width = 128;
  uint64_t sim_seed = 0;
  bool sim_env_state = false, sim_no_cameras = false;
  train::ActHparams h;
  train::SmolVlaHparams sh;
  // Options both policies have, with per-policy defaults (ACT: 100/100/1e-5/1e-4, SmolVLA:
  // 50/50/1e-4/1e-10): only what is given overrides them.
  std::optional<int> chunk_size, n_action_steps;
  std::optional<double> lr, weight_decay;
  std::string vlm = "small", tokenizer_dir = train::kDefaultTokenizerDir, siglip_position_ids = "exact";
  std::optional<int> num_vlm_layers;
  std::vector<std::string> misplaced;  // options of the other policy that were given
  train::TrainOptions o;
  bool json = false, bench = false;
  int bench_cameras = 3, bench_height = 480, bench_width = 640, bench_steps = 3, bench_env_state = 0;
  int eval_per_cluster = 2, eval_val = 10;
  std::string eval_latency = "measured";
  bool eval_async = false;
};

// Evaluates a checkpoint in the simulation with `embody eval` (a separate process: sibling.h),
// which writes `json_path`; its progress goes to our stderr.
Result<train::EvalSummary> EvaluateWithEmbody(const TrainArgs& a, const std::string& pretrained_dir,
                                             const std::string& json_path) {
  EMBODY_ASSIGN_OR_RETURN(const std::string embody, SiblingExecutable("embody"));
  std::vector<std::string> args = {"eval", "--policy", pretrained_dir, "--episodes-per-cluster",
                                   std::to_string(a.eval_per_cluster), "--val-episodes", std::to_string(a.eval_val),
                                   "--latency", a.eval_latency, "--mode", a.eval_async ? "async" : "sync",
                                   "--threads", std::to_string(a.o.threads), "-o", json_path};
  EMBODY_ASSIGN_OR_RETURN(const int code, RunAndWait(embody, args, /*quiet_stdout=*/true));
  if (code != 0) return Internal("embody eval of " + pretrained_dir + " exited with " + std::to_string(code));
  EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(json_path));
  return train::SummaryFromJson(j, json_path);
}

// A negative validation loss means there was no validation split (--sim-val-episodes 0).
std::string FormatValLoss(double val_l1) {
  if (val_l1 < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", val_l1);
  return buf;
}

using Evaluated = std::vector<std::pair<train::CheckpointInfo, train::EvalSummary>>;

// The seed's golden rule: pick by task success (global, then validation), not by loss. Returns
// (best by success, best by validation loss).
std::pair<size_t, size_t> SelectCheckpoints(const Evaluated& evals) {
  size_t best = 0, best_loss = 0;
  for (size_t i = 1; i < evals.size(); ++i) {
    const auto& [ci, s] = evals[i];
    const auto& bs = evals[best].second;
    if (s.global() > bs.global() || (s.global() == bs.global() && s.val() > bs.val())) best = i;
    if (ci.val_l1 >= 0 && (evals[best_loss].first.val_l1 < 0 || ci.val_l1 < evals[best_loss].first.val_l1)) best_loss = i;
  }
  return {best, best_loss};
}

io::Json SelectionJson(const Evaluated& evals) {
  const auto [best, best_loss] = SelectCheckpoints(evals);
  return {{"by_success", {{"step", evals[best].first.step}, {"dir", evals[best].first.pretrained_dir},
                          {"global", evals[best].second.global()}, {"val_l1", evals[best].first.val_l1}}},
          {"by_val_loss", {{"step", evals[best_loss].first.step}, {"dir", evals[best_loss].first.pretrained_dir},
                           {"global", evals[best_loss].second.global()}, {"val_l1", evals[best_loss].first.val_l1}}}};
}

int RunBench(const TrainArgs& a) {
  train::TrainFeatures f;
  for (int i = 0; i < a.bench_cameras; ++i) f.cameras.push_back("observation.images.cam" + std::to_string(i));
  f.height = a.bench_height;
  f.width = a.bench_width;
  f.state_dim = f.action_dim = 6;
  f.env_state_dim = a.bench_env_state;
  if (a.policy == "smolvla") {
    auto t = train::BenchSmolVlaTrainStep(a.sh, f, a.tokenizer_dir, a.o.batch_size, a.bench_steps, a.o.threads);
    if (!t.ok()) return Fail(t.status());
    const int size = a.sh.vlm.vision.image_size;
    if (a.json) {
      PrintJson({{"policy", "smolvla"}, {"vlm", a.vlm}, {"batch_size", a.o.batch_size}, {"cameras", a.bench_cameras},
                 {"image_size", size}, {"chunk_size", a.sh.chunk_size}, {"seconds_per_step", *t},
                 {"steps_per_s", 1.0 / *t}, {"threads", a.o.threads}});
    } else {
      std::printf("SmolVLA training step (forward + backward + AdamW), backbone %s, batch %d, %d cameras at %dx%d, "
                  "chunk %d: %.3f s/step = %.3f steps/s (median of %d)\n",
                  a.vlm.c_str(), a.o.batch_size, a.bench_cameras, size, size, a.sh.chunk_size, *t, 1.0 / *t,
                  a.bench_steps);
    }
    return 0;
  }
  auto t = train::BenchTrainStep(a.h, f, a.o.batch_size, a.bench_steps, a.o.threads);
  if (!t.ok()) return Fail(t.status());
  const double sps = 1.0 / t->step;
  if (a.json) {
    PrintJson({{"batch_size", a.o.batch_size}, {"cameras", a.bench_cameras}, {"env_state", a.bench_env_state},
               {"height", a.bench_height},
               {"width", a.bench_width}, {"dim_model", a.h.dim_model}, {"seconds_per_step", t->step},
               {"phases_s", {{"forward", t->forward}, {"backward", t->backward}, {"optimizer", t->optimizer}}},
               {"steps_per_s", sps}, {"threads", a.o.threads}, {"use_amp", a.h.use_amp}});
  } else {
    std::printf("ACT training step (forward + backward + AdamW), batch %d, %d cameras %dx%d, dim_model %d%s: "
                "%.3f s/step = %.3f steps/s (median of %d; forward %.3f, backward %.3f, clip + AdamW %.3f s)\n",
                a.o.batch_size, a.bench_cameras, a.bench_height, a.bench_width, a.h.dim_model,
                a.h.use_amp ? ", bf16 autocast" : "", t->step, sps, a.bench_steps, t->forward, t->backward,
                t->optimizer);
  }
  return 0;
}

// Applies the shared options to the chosen policy's hyper-parameters; errors name a wrong policy or
// an option of the other policy.
Status ResolvePolicy(TrainArgs& a) {
  if (a.policy != "act" && a.policy != "smolvla")
    return InvalidArgument("embody train --policy '" + a.policy + "': act or smolvla");
  if (!a.misplaced.empty()) {
    std::string names;
    for (const std::string& n : a.misplaced) names += (names.empty() ? "" : ", ") + n;
    return InvalidArgument("embody train --policy " + a.policy + ": " + names + " belong(s) to the other policy");
  }
  if (a.policy == "act") {
    if (a.chunk_size) a.h.chunk_size = *a.chunk_size;
    if (a.n_action_steps) a.h.n_action_steps = *a.n_action_steps;
    if (a.lr) a.h.optimizer_lr = *a.lr;
    if (a.weight_decay) a.h.optimizer_weight_decay = *a.weight_decay;
    return Status::Ok();
  }
  EMBODY_ASSIGN_OR_RETURN(a.sh.vlm, train::VlmPreset(a.vlm));
  a.sh.num_vlm_layers = a.num_vlm_layers ? *a.num_vlm_layers : a.vlm == "base" ? 16 : a.sh.vlm.text.layers;
  if (a.chunk_size) a.sh.chunk_size = *a.chunk_size;
  a.sh.n_action_steps = a.n_action_steps ? *a.n_action_steps : a.sh.chunk_size;
  if (a.lr) a.sh.optimizer_lr = *a.lr;
  if (a.weight_decay) a.sh.optimizer_weight_decay = *a.weight_decay;
  if (a.siglip_position_ids != "exact" && a.siglip_position_ids != "transformers-fp32")
    return InvalidArgument("--siglip-position-ids '" + a.siglip_position_ids + "': exact or transformers-fp32");
  a.sh.transformers_fp32_position_ids = a.siglip_position_ids == "transformers-fp32";
  return Status::Ok();
}

int RunTrain(TrainArgs a) {
  if (Status st = ResolvePolicy(a); !st.ok()) return Fail(st);
  if (a.bench) return RunBench(a);
  if (a.output.empty()) return Fail(InvalidArgument("--output is required"));
  if (a.dataset.empty() == (a.sim_episodes == 0))
    return Fail(InvalidArgument("give exactly one of --dataset DIR or --sim-episodes N"));
  if (a.select_by != "none" && a.select_by != "success")
    return Fail(InvalidArgument("--select-by: none or success, got '" + a.select_by + "'"));
  std::unique_ptr<train::TrainSource> source, validation;
  if (!a.dataset.empty()) {
#ifdef EMBODY_HAVE_DATA_SOURCE
    auto ds = train::OpenDatasetSource(a.dataset, train::DatasetSplit::kTrain);
    if (!ds.ok()) return Fail(ds.status());
    source = std::move(*ds);
    auto val = train::OpenDatasetSource(a.dataset, train::DatasetSplit::kValidation);
    if (val.ok() && (*val)->num_frames() > 0) validation = std::move(*val);
#else
    return Fail(Unimplemented("--dataset: this build has no dataset reader (src/data needs Arrow and FFmpeg)"));
#endif
  } else {
#ifdef EMBODY_HAVE_SIM
    train::SimEpisodeOptions so;
    so.episodes = a.sim_episodes;
    so.height = a.sim_height;
    so.width = a.sim_width;
    so.seed = a.sim_seed;
    so.cameras = !a.sim_no_cameras;
    so.env_state = a.sim_env_state;
    Progress bar("expert episodes", a.sim_episodes);
    auto src = train::GenerateSimEpisodes(so, [&](int kept, int) { bar.Step(kept); });
    bar.Finish();
    if (!src.ok()) return Fail(src.status());
    source = std::move(*src);
#else
    return Fail(Unimplemented("--sim-episodes: this build has no simulation"));
#endif
  }
  Evaluated evals;
  if (a.select_by == "success") {
    if (auto e = SiblingExecutable("embody"); !e.ok()) return Fail(e.status());
    a.o.on_checkpoint = [&](const train::CheckpointInfo& info) -> Status {
      std::filesystem::create_directories(a.output + "/eval");
      const std::string json_path = a.output + "/eval/" + train::StepName(info.step) + ".json";
      EMBODY_ASSIGN_OR_RETURN(train::EvalSummary s, EvaluateWithEmbody(a, info.pretrained_dir, json_path));
      // The eval file gains the step and validation loss, so it stands alone for `embody report`.
      if (auto j = io::ReadJsonFile(json_path); j.ok()) {
        (*j)["step"] = info.step;
        (*j)["val_l1"] = info.val_l1;
        EMBODY_TRY(io::WriteJsonFile(json_path, *j));
      }
      std::fprintf(stderr, "checkpoint %lld: val loss %s, success test %d/%d val %d/%d global %.2f\n",
                   static_cast<long long>(info.step), FormatValLoss(info.val_l1).c_str(), s.test_success, s.test_total, s.val_success,
                   s.val_total, s.global());
      evals.emplace_back(info, s);
      // Rewritten after every evaluation, so a killed run keeps its selection so far.
      return io::WriteJsonFile(a.output + "/selection.json", SelectionJson(evals));
    };
  }
#ifdef EMBODY_HAVE_SIM
  if (a.sim_val_episodes > 0 && !validation) {
    // Validation loss on the held-out cluster, with seeds far from the training ones.
    train::SimEpisodeOptions vo;
    vo.episodes = a.sim_val_episodes;
    vo.height = source->features().height;
    vo.width = source->features().width;
    vo.cameras = !a.sim_no_cameras;
    vo.env_state = a.sim_env_state;
    vo.seed = 500000;
    vo.recovery_fraction = 0;
    vo.validation_cluster_only = true;
    auto v = train::GenerateSimEpisodes(vo);
    if (!v.ok()) return Fail(v.status());
    validation = std::move(*v);
  }
#endif
  if (a.json)
    a.o.on_log = [](const train::StepLog& l) {
      PrintJson({{"step", l.step}, {"loss", l.loss}, {"l1", l.l1}, {"kld", l.kld}, {"grad_norm", l.grad_norm},
                 {"steps_per_s", l.steps_per_s}, {"data_wait", l.data_wait}, {"eta_s", l.eta_s}});
    };
  a.o.output = a.output;
  a.o.init_from = a.init_from;
  if (!a.json)
    std::printf("training %s on %s: %lld frames, %d episodes, %zu cameras %dx%d%s -> %s\n",
                a.policy == "act" ? "ACT" : "SmolVLA", source->description().c_str(),
                static_cast<long long>(source->num_frames()), source->num_episodes(), source->features().cameras.size(),
                source->features().height, source->features().width,
                source->features().env_state_dim > 0 ? ", environment state" : "", a.output.c_str());
  std::fflush(stdout);
  auto r = a.policy == "act" ? train::TrainAct(*source, a.h, a.o, validation.get())
                             : train::TrainSmolVla(*source, a.sh, a.o, a.tokenizer_dir, validation.get());
  if (!r.ok()) return Fail(r.status());
  io::Json ckpts = io::Json::array();
  for (const auto& c : r->checkpoints) ckpts.push_back({{"step", c.step}, {"dir", c.pretrained_dir}, {"val_l1", c.val_l1}});
  io::Json out = {{"first_step", r->first_step}, {"last_step", r->last_step}, {"seconds", r->seconds},
                  {"steps_per_s", r->steps_per_s}, {"data_wait", r->data_wait}, {"final_loss", r->final_loss},
                  {"final_l1", r->final_l1}, {"checkpoints", ckpts}};
  if (!evals.empty()) {
    const auto [best, best_loss] = SelectCheckpoints(evals);
    const io::Json sel = SelectionJson(evals);
    out["selection"] = sel;
    if (!a.json) {
      std::printf("\n| step | val loss (%s) | test | val | global |\n|---|---|---|---|---|\n",
                  a.policy == "act" ? "L1" : "flow-matching MSE");
      for (const auto& [ci, s] : evals)
        std::printf("| %lld | %s | %d/%d | %d/%d | %.2f |\n", static_cast<long long>(ci.step),
                    FormatValLoss(ci.val_l1).c_str(),
                    s.test_success, s.test_total, s.val_success, s.val_total, s.global());
      std::printf("best by success: step %lld (global %.2f); best by validation loss: step %lld (global %.2f)\n",
                  static_cast<long long>(evals[best].first.step), evals[best].second.global(),
                  static_cast<long long>(evals[best_loss].first.step), evals[best_loss].second.global());
    }
  }
  if (a.json) {
    PrintJson(out);
  } else {
    std::printf("trained steps %lld..%lld in %.0f s (%.3f steps/s, data wait %.0f%%), final loss %.4f",
                static_cast<long long>(r->first_step), static_cast<long long>(r->last_step), r->seconds, r->steps_per_s,
                100 * r->data_wait, r->final_loss);
    if (a.policy == "act") std::printf(" (l1 %.4f)", r->final_l1);
    std::printf("\n");
    for (const auto& c : r->checkpoints)
      std::printf("checkpoint %s%s\n", c.pretrained_dir.c_str(),
                  c.val_l1 >= 0 ? (" (val loss " + std::to_string(c.val_l1) + ")").c_str() : "");
  }
  return 0;
}

}  // namespace

void RegisterTrain(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<TrainArgs>();
  auto* sub = app.add_subcommand("train", "Train a policy (ACT or SmolVLA) with libtorch; LeRobot checkpoint layout");
  sub->add_option("--policy", a->policy, "act or smolvla");
  sub->add_option("--dataset", a->dataset, "LeRobot dataset folder (v3.0 or v2.1)");
  sub->add_option("--sim-episodes", a->sim_episodes, "Train on N scripted-expert episodes generated in memory");
  sub->add_option("--sim-height", a->sim_height, "Image height of --sim-episodes");
  sub->add_option("--sim-width", a->sim_width, "Image width of --sim-episodes");
  sub->add_option("--sim-seed", a->sim_seed, "First seed of --sim-episodes");
  sub->add_option("--sim-val-episodes", a->sim_val_episodes, "Held-out-cluster episodes for the validation loss");
  sub->add_flag("--sim-env-state", a->sim_env_state,
                "Add the bag's pose as observation.environment_state (privileged: sim only, ACT only)");
  sub->add_flag("--sim-no-cameras", a->sim_no_cameras, "Render no cameras (with --sim-env-state: a state-only policy)");
  sub->add_option("-o,--output", a->output, "Run folder (checkpoints/ go under it)");
  sub->add_flag("--resume", a->o.resume, "Continue from OUTPUT/checkpoints/last");
  sub->add_option("--init-from", a->init_from, "Start from this pretrained_model's weights");
  sub->add_option("--steps", a->o.steps, "Total optimizer steps (LeRobot default 100000)");
  sub->add_option("--batch-size", a->o.batch_size, "Batch size (8)");
  sub->add_option("--save-every", a->o.save_every, "Checkpoint period in steps (20000)");
  sub->add_option("--log-every", a->o.log_every, "Log period in steps (100)");
  sub->add_option("--seed", a->o.seed, "Seed of initialization, sampling and dropout (1000)");
  sub->add_option("--threads", a->o.threads, "libtorch threads (0: all cores)");
  sub->add_option("--workers", a->o.workers, "Batch-loading threads (2)");
  sub->add_option("--stop-after", a->o.stop_after, "Stop after N steps in this process (as if killed)");
  sub->add_option("--chunk-size", a->chunk_size, "chunk_size (ACT 100, SmolVLA 50)");
  sub->add_option("--n-action-steps", a->n_action_steps, "n_action_steps (ACT 100, SmolVLA: chunk_size)");
  sub->add_option("--lr", a->lr, "AdamW learning rate (ACT 1e-5, SmolVLA 1e-4 peak of the cosine schedule)");
  sub->add_option("--weight-decay", a->weight_decay, "AdamW weight decay (ACT 1e-4, SmolVLA 1e-10)");
  std::vector<CLI::Option*> act_only = {
      sub->add_option("--bn-init-frames", a->o.bn_init_frames,
                      "ACT: set the from-scratch backbone's frozen batch-norm statistics from N frames (64; 0: identity, as LeRobot)"),
      sub->add_option("--dim-model", a->h.dim_model, "ACT dim_model (512)"),
      sub->add_option("--n-heads", a->h.n_heads, "ACT n_heads (8)"),
      sub->add_option("--dim-feedforward", a->h.dim_feedforward, "ACT dim_feedforward (3200)"),
      sub->add_option("--n-encoder-layers", a->h.n_encoder_layers, "ACT n_encoder_layers (4)"),
      sub->add_option("--n-decoder-layers", a->h.n_decoder_layers, "ACT n_decoder_layers (1)"),
      sub->add_option("--n-vae-encoder-layers", a->h.n_vae_encoder_layers, "ACT n_vae_encoder_layers (4)"),
      sub->add_option("--latent-dim", a->h.latent_dim, "ACT latent_dim (32)"),
      sub->add_flag("--pre-norm", a->h.pre_norm, "ACT: pre-norm transformer layers"),
      sub->add_option("--activation", a->h.feedforward_activation, "ACT: relu or gelu"),
      sub->add_option("--dropout", a->h.dropout, "ACT dropout (0.1)"),
      sub->add_option("--kl-weight", a->h.kl_weight, "ACT KL weight (10)"),
      sub->add_option("--lr-backbone", a->h.optimizer_lr_backbone, "ACT backbone learning rate (1e-5)"),
      sub->add_flag("--use-amp", a->h.use_amp,
                    "ACT: LeRobot's use_amp, the forward pass under bf16 autocast (fast on AMX / AVX512-BF16 CPUs); "
                    "with --resume it turns it on for the rest of the run")};
  std::vector<CLI::Option*> smolvla_only = {
      sub->add_option("--vlm", a->vlm, "SmolVLA backbone: small (default; trains from scratch on a CPU), tiny, or base "
                                       "(SmolVLM2-500M's dimensions)"),
      sub->add_option("--num-vlm-layers", a->num_vlm_layers, "SmolVLA num_vlm_layers (the backbone's, 16 for base)"),
      sub->add_option("--num-steps", a->sh.num_steps, "SmolVLA Euler steps at inference (10)"),
      sub->add_option("--expert-width-multiplier", a->sh.expert_width_multiplier, "SmolVLA expert width (0.75)"),
      sub->add_option("--freeze-vision-encoder", a->sh.freeze_vision_encoder, "SmolVLA freeze_vision_encoder (true)"),
      sub->add_option("--train-expert-only", a->sh.train_expert_only, "SmolVLA train_expert_only (true)"),
      sub->add_option("--train-state-proj", a->sh.train_state_proj, "SmolVLA train_state_proj (true)"),
      sub->add_option("--warmup-steps", a->sh.scheduler_warmup_steps, "SmolVLA scheduler_warmup_steps (1000)"),
      sub->add_option("--decay-steps", a->sh.scheduler_decay_steps, "SmolVLA scheduler_decay_steps (30000)"),
      sub->add_option("--decay-lr", a->sh.scheduler_decay_lr, "SmolVLA scheduler_decay_lr (2.5e-6)"),
      sub->add_option("--mask-padded-actions", a->sh.mask_padded_actions,
                      "SmolVLA: zero the loss past an episode's end (true; false = LeRobot 0.4.4's effective loss)"),
      sub->add_option("--siglip-position-ids", a->siglip_position_ids, "SmolVLA: exact or transformers-fp32"),
      sub->add_option("--task", a->sh.default_task, "SmolVLA: instruction for frames without one"),
      sub->add_option("--tokenizer-dir", a->tokenizer_dir,
                      std::string("SmolVLA: SmolVLM2 tokenizer folder (") + train::kDefaultTokenizerDir + ")")};
  sub->add_option("--select-by", a->select_by, "success: evaluate each checkpoint in the sim, report the best");
  sub->add_option("--eval-episodes-per-cluster", a->eval_per_cluster, "--select-by: test positions per training cluster (2)");
  sub->add_option("--eval-val-episodes", a->eval_val, "--select-by: held-out cluster positions (10)");
  sub->add_option("--eval-latency", a->eval_latency, "--select-by: latency profile (measured)");
  sub->add_flag("--eval-async", a->eval_async, "--select-by: asynchronous execution");
  sub->add_flag("--bench", a->bench, "Measure training steps/s on random inputs and exit");
  sub->add_option("--bench-cameras", a->bench_cameras, "--bench: cameras (3)");
  sub->add_option("--bench-height", a->bench_height, "--bench: image height (480)");
  sub->add_option("--bench-width", a->bench_width, "--bench: image width (640)");
  sub->add_option("--bench-steps", a->bench_steps, "--bench: timed steps (3)");
  sub->add_option("--bench-env-state", a->bench_env_state, "--bench: environment-state width (0: none; ACT)");
  sub->add_flag("--json", a->json, "Machine-readable output (JSON lines while training)");
  sub->callback([&run, a, act_only, smolvla_only] {
    for (CLI::Option* opt : a->policy == "smolvla" ? act_only : a->policy == "act" ? smolvla_only : std::vector<CLI::Option*>{})
      if (opt->count() > 0) a->misplaced.push_back(opt->get_name());
    run = [a] { return RunTrain(*a); };
  });
}

}  // namespace embody::cli

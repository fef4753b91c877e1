#include "train/train_loop.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "train/checkpoint_io.h"
#include "train/torch_tensors.h"

namespace embody::train {

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string Duration(double s) {
  char buf[32];
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

void PrintProgress(const StepLog& l, bool parts, bool tty, bool final_line) {
  const int width = 24;
  const double frac = l.total > 0 ? static_cast<double>(l.step) / static_cast<double>(l.total) : 0;
  const int fill = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(fill), '=');
  if (fill < width) bar += '>';
  bar.resize(width, ' ');
  char detail[64] = "";
  if (parts) std::snprintf(detail, sizeof detail, " (l1 %.4f kld %.4f)", l.l1, l.kld);
  std::fprintf(stderr, "%sstep %lld/%lld [%s] loss %.4f%s grad %.2f | %.2f step/s | data wait %2.0f%% | ETA %s%s",
               tty ? "\r" : "", static_cast<long long>(l.step), static_cast<long long>(l.total), bar.c_str(), l.loss,
               detail, l.grad_norm, l.steps_per_s, 100 * l.data_wait, Duration(l.eta_s).c_str(),
               tty && !final_line ? "   " : "\n");
  std::fflush(stderr);
}

}  // namespace

std::string TorchVersion() {
  return "libtorch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR);
}

void SetTorchThreads(int threads) {
  torch::set_num_threads(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

Result<ResumePoint> FindResumePoint(const TrainOptions& o) {
  ResumePoint r;
  if (o.resume) {
    auto last = LastCheckpointStep(o.output);
    if (last.ok()) {
      r.step = *last;
      r.dir = CheckpointDir(o.output, r.step);
    } else if (last.status().code() != StatusCode::kNotFound) {
      return last.status();
    }
  }
  if (r.step >= o.steps) return FailedPrecondition(o.output + ": already trained to step " + std::to_string(r.step));
  return r;
}

Status RestoreTrainingState(const ResumePoint& resume, AdamW& opt) {
  if (resume.dir.empty()) return Status::Ok();
  const std::string where = resume.dir + "/training_state";
  EMBODY_ASSIGN_OR_RETURN(TrainingState ts, ReadTrainingState(where));
  if (ts.step != resume.step) return DataLoss(where + "/training_step.json: step does not match the folder");
  EMBODY_TRY(opt.Load(ts, where));
  for (const auto& [name, t] : ts.rng)
    if (name == "torch_cpu") {
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      gen.set_state(ToTorch(t));
    }
  return Status::Ok();
}

Result<TrainResult> RunTrainLoop(const TrainSource& source, int chunk, const TrainOptions& o, const ResumePoint& resume,
                                 AdamW& opt, torch::nn::Module& module, LoopPolicy& policy) {
  TrainResult result;
  const int64_t start = resume.step;
  result.first_step = start;
  auto save = [&](int64_t step) -> Status {
    TrainingState ts;
    ts.step = step;
    opt.Save(&ts);
    ts.scheduler = policy.SchedulerState(step);
    ts.rng.emplace_back("torch_cpu", ToEmbody(at::detail::getDefaultCPUGenerator().get_state()));
    EMBODY_TRY(PublishCheckpoint(o.output, step, [&](const std::string& dir) -> Status {
      EMBODY_TRY(policy.WritePretrained(dir + "/pretrained_model"));
      return WriteTrainingState(dir + "/training_state", ts);
    }));
    CheckpointInfo info{step, CheckpointDir(o.output, step) + "/pretrained_model", -1};
    EMBODY_ASSIGN_OR_RETURN(info.val_l1, policy.Validate());
    module.train();
    result.checkpoints.push_back(info);
    if (o.on_checkpoint) EMBODY_TRY(o.on_checkpoint(info));
    return Status::Ok();
  };

  LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.chunk = chunk;
  lo.seed = o.seed;
  lo.first_step = start;
  lo.workers = o.workers;
  BatchLoader loader(source, lo);
  module.train();
  const bool tty = isatty(fileno(stderr));
  const bool parts = policy.HasLossParts();
  const auto t0 = Clock::now();
  int64_t step = start;
  StepLog log;
  Batch batch;
  // LambdaLR: the k-th optimizer step (from 0) runs at base * factor(k); the factor is set ahead,
  // so a checkpoint's param groups hold the next step's rate, as LeRobot's do.
  opt.SetLrScale(policy.LrScale(step));
  while (step < o.steps) {
    EMBODY_TRY(loader.Next(&batch));
    EMBODY_ASSIGN_OR_RETURN(StepLoss loss, policy.Loss(batch));
    opt.ZeroGrad();
    loss.loss.backward();
    const double grad_norm = torch::nn::utils::clip_grad_norm_(opt.AllParams(), o.grad_clip_norm);
    opt.Step();
    ++step;
    opt.SetLrScale(policy.LrScale(step));
    const double value = loss.loss.item<double>();
    if (!std::isfinite(value)) return Internal("train: loss is not finite at step " + std::to_string(step));
    const double elapsed = Since(t0);
    log = {step, o.steps, value, loss.l1, loss.kld, grad_norm, static_cast<double>(step - start) / elapsed,
           loader.wait_seconds() / elapsed, 0};
    log.eta_s = static_cast<double>(o.steps - step) / std::max(log.steps_per_s, 1e-9);
    result.final_loss = log.loss;
    result.final_l1 = log.l1;
    if (o.progress && (tty || step % o.log_every == 0 || step == o.steps)) PrintProgress(log, parts, tty, false);
    if (o.on_log && (step % o.log_every == 0 || step == o.steps)) o.on_log(log);
    if (step % o.save_every == 0 || step == o.steps) {
      if (o.progress && tty) std::fprintf(stderr, "\n");
      EMBODY_TRY_CTX(save(step), o.output);
    }
    if (o.stop_after > 0 && step - start >= o.stop_after) break;
  }
  if (o.progress && tty) std::fprintf(stderr, "\n");
  result.last_step = step;
  result.seconds = Since(t0);
  result.steps_per_s = static_cast<double>(step - start) / std::max(result.seconds, 1e-9);
  result.data_wait = loader.wait_seconds() / std::max(result.seconds, 1e-9);
  return result;
}

}  // namespace embody::train

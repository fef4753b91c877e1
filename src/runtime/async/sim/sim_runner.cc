#include "runtime/async/sim/sim_runner.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>

#include "runtime/async/inference_monitor.h"
#include "runtime/temporal_ensembler.h"

namespace embody::runtime::simrun {

namespace {

// A policy error or exception becomes a Status: the control loop must survive both.
Status SafePredict(Policy& policy, const PolicyObservation& obs, float* chunk) {
  try {
    return policy.PredictChunk(obs, chunk);
  } catch (const std::exception& e) {
    return Internal(std::string("policy threw: ") + e.what());
  } catch (...) {
    return Internal("policy threw a non-standard exception");
  }
}

struct InFlight {
  bool active = false;
  int arrive_tick = 0;
  int64_t first_timestep = 0;
  float latency_ms = 0;
};

}  // namespace

Result<SimEpisodeReport> RunPolicyEpisode(sim::Episode& episode, Policy& policy, const sim::EpisodeSpec& spec,
                                          const SimRunOptions& options, const Observer& observer) {
  const int chunk = policy.chunk_size(), dim = policy.action_dim();
  if (chunk <= 0 || dim != sim::kNumJoints)
    return InvalidArgument("policy '" + std::string(policy.name()) + "' has chunk " + std::to_string(chunk) +
                           " and action_dim " + std::to_string(dim) + "; the tea-bag task needs " +
                           std::to_string(sim::kNumJoints));
  if (options.threshold < 0 || options.threshold > 1) return InvalidArgument("threshold must be in [0, 1]");
  const bool ensemble = options.temporal_ensemble_coeff > 0;
  if (ensemble && options.mode != Mode::kSync)
    return InvalidArgument("temporal ensembling runs the synchronous loop (an inference every tick), not async");

  EMBODY_TRY(episode.Reset(spec));
  policy.Reset();
  const double period_ms = episode.task().control_dt() * 1000;
  ActionQueue queue(chunk, dim);
  MonitorOptions mo;
  mo.period_ms = period_ms;
  mo.chunk_size = chunk;
  InferenceMonitor monitor(mo);
  std::vector<float> chunk_buf(static_cast<size_t>(chunk) * dim);
  std::unique_ptr<TemporalEnsembler> ensembler;
  std::vector<float> ensembled(static_cast<size_t>(dim));
  if (ensemble) ensembler = std::make_unique<TemporalEnsembler>(options.temporal_ensemble_coeff, chunk, dim);
  PolicyObservation obs;

  SimEpisodeReport r;
  r.spec = spec;
  double threshold = options.threshold;
  double latency_sum = 0;
  InFlight flight;
  bool failed = false, new_chunk = false, started = false;
  sim::JointVector target = episode.last_action();  // the start pose: what the robot holds first
  sim::JointVector previous = target;                // the target one tick before
  queue.Reset(target.data());
  const double bag_start_z = episode.bag().z;

  auto merge = [&]() {
    // A synchronous loop runs the first n_action_steps of the chunk, as LeRobot's select_action.
    // Ensembling runs one action per chunk: this tick's average over every chunk that predicted it.
    int run = options.mode == Mode::kSync ? std::clamp(policy.n_action_steps(), 1, chunk) : chunk;
    const float* actions = chunk_buf.data();
    if (ensembler) {
      ensembler->Update(chunk_buf.data(), ensembled.data());
      actions = ensembled.data();
      run = 1;
    }
    const MergeResult m = queue.Merge(flight.first_timestep, actions, run, options.merge);
    r.stale_actions += m.stale;
    if (m.kept > 0) {
      ++r.chunk_switches;
      started = true;
      new_chunk = true;
    }
    flight.active = false;
  };

  while (true) {
    const int tick = episode.tick();
    if (flight.active && tick >= flight.arrive_tick) merge();

    const int queued = queue.size();
    const bool want = options.mode == Mode::kSync ? queued == 0 : queued <= threshold * chunk + 1e-9;
    if (!failed && !flight.active && want) {
      obs.images.clear();
      obs.state = nullptr;
      obs.env_state = nullptr;
      obs.sim = nullptr;
      if (observer) EMBODY_TRY(observer(episode, &obs));
      const sim::JointVector state = episode.state();
      if (!obs.state) obs.state = state.data();
      // LeRobot tags an async chunk from the last executed action's timestep (its action 0 is
      // then already stale); a synchronous loop runs the chunk from the next timestep on
      const int64_t latest = queue.latest_executed();
      obs.timestep = options.mode == Mode::kSync ? latest + 1 : std::max<int64_t>(latest, 0);
      // T_execution left: the queued actions (sync: none, it waits by design)
      policy.SetLatencyBudget(options.mode == Mode::kAsync ? queued * period_ms : 0.0);
      const Status s = SafePredict(policy, obs, chunk_buf.data());
      if (!s.ok()) {
        // hold position: no more chunks, and drop what is queued from the failing policy
        failed = true;
        r.policy_error = s.ToString();
        queue.Reset(target.data());
      } else {
        const double latency = options.latency.Charge(policy.last_total_ms());
        ++r.inferences;
        latency_sum += latency;
        // sync waits for every chunk by design: only async inferences can be late
        const bool late = monitor.Record(latency, queued);
        if (late && r.inferences > 1 && options.mode == Mode::kAsync) ++r.late_inferences;
        if (options.adaptive_threshold && options.mode == Mode::kAsync) threshold = monitor.SuggestThreshold(threshold);
        flight = {true, tick + DelayTicks(latency, period_ms), obs.timestep, static_cast<float>(latency)};
        if (flight.arrive_tick <= tick) merge();
      }
    }

    if (options.trace) r.trace.push_back({queue.size(), flight.active ? flight.latency_ms : 0.0f, false});
    sim::JointVector next;
    int64_t ts = 0;
    if (!failed && queue.Pop(next.data(), &ts)) {
      if (new_chunk) {
        for (int j = 0; j < 5; ++j) {
          const double kink = (double(next[j]) - target[j]) - (double(target[j]) - previous[j]);
          r.max_seam_jump = std::max(r.max_seam_jump, std::fabs(kink));
        }
        new_chunk = false;
      }
      previous = target;
      target = next;
    } else {
      previous = target;  // holding: zero velocity
      ++(started ? r.idle_ticks : r.startup_ticks);
      if (options.trace) r.trace.back().idle = true;
    }
    EMBODY_TRY(episode.Step(target));
    r.max_bag_lift = std::max(r.max_bag_lift, episode.bag().z - bag_start_z);

    if (episode.success_held() >= options.settle_seconds || episode.timed_out()) break;
  }

  r.ticks = episode.tick();
  r.duration = episode.time();
  r.success = episode.bag_in_mug();
  r.time_to_success = episode.time_to_success();
  r.mean_latency_ms = r.inferences ? latency_sum / r.inferences : 0;
  r.final_threshold = threshold;
  r.warning = options.mode == Mode::kAsync ? monitor.Warning(threshold) : std::string();
  return r;
}

}  // namespace embody::runtime::simrun

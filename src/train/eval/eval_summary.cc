#include "train/eval/eval_summary.h"

namespace embody::train {

EpisodeFailure FailureOf(const EvalEpisodeResult& e) {
  if (e.success) return EpisodeFailure::kNone;
  return e.max_bag_lift < kLiftedBagMetres ? EpisodeFailure::kMissedGrasp : EpisodeFailure::kDroppedOrMisplaced;
}

const char* FailureName(EpisodeFailure f) {
  switch (f) {
    case EpisodeFailure::kMissedGrasp: return "missed grasp";
    case EpisodeFailure::kDroppedOrMisplaced: return "dropped or misplaced";
    case EpisodeFailure::kNone: break;
  }
  return "none";
}

int EvalSummary::count(EpisodeFailure f) const {
  int n = 0;
  for (const EvalEpisodeResult& e : episodes) n += FailureOf(e) == f;
  return n;
}

io::Json SummaryToJson(const EvalSummary& s, bool with_episodes) {
  io::Json j = {{"checkpoint", s.checkpoint}, {"policy", s.policy}, {"format", s.format}, {"mode", s.mode},
                {"latency_profile", s.latency_profile}, {"platform", s.platform}, {"latency_ms", s.latency_ms},
                {"test", {{"success", s.test_success}, {"episodes", s.test_total}, {"rate", s.test()}}},
                {"val", {{"success", s.val_success}, {"episodes", s.val_total}, {"rate", s.val()}}},
                {"global", {{"success", s.test_success + s.val_success},
                            {"episodes", s.test_total + s.val_total}, {"rate", s.global()}}}};
  if (with_episodes) {
    io::Json eps = io::Json::array();
    for (const EvalEpisodeResult& e : s.episodes)
      eps.push_back({{"set", e.set}, {"cluster", e.cluster}, {"seed", e.seed}, {"success", e.success},
                     {"time_to_success", e.time_to_success}, {"max_bag_lift_m", e.max_bag_lift}});
    j["episodes"] = eps;
    j["failures"] = {{"missed_grasp", s.missed_grasps()}, {"dropped_or_misplaced", s.dropped_or_misplaced()}};
  }
  return j;
}

Result<EvalSummary> SummaryFromJson(const io::Json& j, const std::string& where) {
  EvalSummary s;
  try {
    s.checkpoint = j.at("checkpoint").get<std::string>();
    s.policy = j.at("policy").get<std::string>();
    s.format = j.at("format").get<std::string>();
    s.mode = j.at("mode").get<std::string>();
    s.latency_profile = j.at("latency_profile").get<std::string>();
    s.platform = j.at("platform").get<std::string>();
    s.latency_ms = j.at("latency_ms").get<double>();
    s.test_success = j.at("test").at("success").get<int>();
    s.test_total = j.at("test").at("episodes").get<int>();
    s.val_success = j.at("val").at("success").get<int>();
    s.val_total = j.at("val").at("episodes").get<int>();
  } catch (const std::exception& e) {
    return InvalidArgument(where + ": not an embody eval result: " + e.what());
  }
  return s;
}

}  // namespace embody::train

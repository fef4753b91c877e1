#include "train/adamw.h"

#include <cmath>
#include <map>

#include "train/torch_tensors.h"

namespace embody::train {

AdamW::AdamW(std::vector<Group> groups, AdamWHyper hyper) : groups_(std::move(groups)), hyper_(hyper) {
  for (const Group& g : groups_)
    for (const torch::Tensor& p : g.params) state_.push_back({torch::zeros_like(p), torch::zeros_like(p), 0});
}

void AdamW::Step() {
  torch::NoGradGuard no_grad;
  const double b1 = hyper_.beta1, b2 = hyper_.beta2;
  size_t i = 0;
  for (const Group& g : groups_) {
    const double lr = g.lr * lr_scale_;
    for (const torch::Tensor& p0 : g.params) {
      State& s = state_[i++];
      torch::Tensor p = p0;
      if (!p.grad().defined()) continue;
      const torch::Tensor grad = p.grad();
      p.mul_(1 - lr * g.weight_decay);
      s.exp_avg.lerp_(grad, 1 - b1);
      s.exp_avg_sq.mul_(b2).addcmul_(grad, grad, 1 - b2);
      s.step += 1;
      const double bc1 = 1 - std::pow(b1, static_cast<double>(s.step));
      const double bc2 = 1 - std::pow(b2, static_cast<double>(s.step));
      const torch::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(hyper_.eps);
      p.addcdiv_(s.exp_avg, denom, -lr / bc1);
    }
  }
}

void AdamW::ZeroGrad() {
  for (Group& g : groups_)
    for (torch::Tensor& p : g.params)
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

std::vector<torch::Tensor> AdamW::AllParams() const {
  std::vector<torch::Tensor> out;
  for (const Group& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

void AdamW::Save(TrainingState* ts) const {
  io::Json groups = io::Json::array();
  size_t i = 0;
  for (const Group& g : groups_) {
    io::Json ids = io::Json::array();
    for (size_t k = 0; k < g.params.size(); ++k, ++i) {
      ids.push_back(i);
      const State& s = state_[i];
      const std::string p = "state." + std::to_string(i) + ".";
      ts->optimizer.emplace_back(p + "exp_avg", ToEmbody(s.exp_avg));
      ts->optimizer.emplace_back(p + "exp_avg_sq", ToEmbody(s.exp_avg_sq));
      Tensor step = Tensor::Empty(DType::kF32, Shape{});
      step.data<float>()[0] = static_cast<float>(s.step);
      ts->optimizer.emplace_back(p + "step", step);
    }
    groups.push_back({{"lr", g.lr * lr_scale_}, {"initial_lr", g.lr}, {"betas", {hyper_.beta1, hyper_.beta2}},
                      {"eps", hyper_.eps}, {"weight_decay", g.weight_decay}, {"amsgrad", false}, {"foreach", nullptr},
                      {"maximize", false}, {"capturable", false}, {"differentiable", false}, {"fused", nullptr},
                      {"params", ids}, {"param_names", g.names}});
  }
  ts->param_groups = groups;
}

Status AdamW::Load(const TrainingState& ts, const std::string& where) {
  std::map<std::string, const Tensor*> by_name;
  for (const auto& [name, t] : ts.optimizer) by_name[name] = &t;
  if (!ts.param_groups.is_array() || ts.param_groups.size() != groups_.size())
    return DataLoss(where + "/optimizer_param_groups.json: expected " + std::to_string(groups_.size()) + " groups");
  size_t i = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const io::Json& names = ts.param_groups[gi].value("param_names", io::Json::array());
    if (names != io::Json(groups_[gi].names))
      return DataLoss(where + "/optimizer_param_groups.json: group " + std::to_string(gi) +
                      " names other parameters than this model has (different config?)");
    for (size_t k = 0; k < groups_[gi].params.size(); ++k, ++i) {
      const std::string p = "state." + std::to_string(i) + ".";
      auto a = by_name.find(p + "exp_avg"), b = by_name.find(p + "exp_avg_sq"), s = by_name.find(p + "step");
      if (a == by_name.end() || b == by_name.end() || s == by_name.end())
        return DataLoss(where + "/optimizer_state.safetensors: missing " + p + "*");
      torch::Tensor ea = ToTorch(*a->second), eb = ToTorch(*b->second);
      if (!ea.sizes().equals(state_[i].exp_avg.sizes()) || !eb.sizes().equals(state_[i].exp_avg.sizes()))
        return DataLoss(where + "/optimizer_state.safetensors: " + p + "exp_avg has the wrong shape");
      state_[i] = {ea, eb, static_cast<int64_t>(std::lround(s->second->data<float>()[0]))};
    }
  }
  return Status::Ok();
}

}  // namespace embody::train

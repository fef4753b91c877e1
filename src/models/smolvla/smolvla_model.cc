#include "models/smolvla/smolvla_model.h"

#include <cmath>
#include <cstring>

#include "core/seeded.h"
#include "core/timer.h"
#include "models/common/quantized_store.h"
#include "models/smolvla/smolvla_expert.h"
#include "models/smolvla/smolvla_text.h"
#include "models/smolvla/smolvla_vision.h"
#include "models/smolvla/smolvla_weights.h"

namespace embody::models::smolvla {

SmolVlaModel::~SmolVlaModel() = default;

Result<std::unique_ptr<SmolVlaModel>> SmolVlaModel::Load(const std::string& dir, const SmolVlaOptions& options) {
  std::unique_ptr<SmolVlaModel> m(new SmolVlaModel());
  m->options_ = options;
  auto pick = [&](int block) { return block > 0 ? block : options.threads; };
  m->vision_pool_ = ThreadPool(pick(options.vision_threads));
  m->llm_pool_ = ThreadPool(pick(options.llm_threads));
  m->expert_pool_ = ThreadPool(pick(options.expert_threads));
  ThreadPool(options.threads).BindToCallingThread();  // weight packing
  EMBODY_ASSIGN_OR_RETURN(m->config_, LoadSmolVlaConfig(dir));
  const SmolVlaConfig& c = m->config_;

  std::string tok_path = options.tokenizer_path;
  if (tok_path.empty()) {
    for (const std::string& candidate : {dir + "/tokenizer/tokenizer.json", dir + "/tokenizer.json"})
      if (io::FileExists(candidate)) {
        tok_path = candidate;
        break;
      }
  }
  if (tok_path.empty())
    return NotFound(dir + ": no tokenizer.json (looked in tokenizer/ and the checkpoint folder; LeRobot < 0.6 does "
                    "not save it: copy the SmolVLM2 tokenizer files into <checkpoint>/tokenizer/ or pass one)");
  EMBODY_ASSIGN_OR_RETURN(BpeTokenizer tok, BpeTokenizer::Load(tok_path));
  if (tok.vocab_size() > c.vlm.text.vocab)
    return InvalidArgument(tok_path + ": tokenizer has " + std::to_string(tok.vocab_size()) +
                           " tokens but the text model's vocabulary is " + std::to_string(c.vlm.text.vocab));
  m->tokenizer_ = std::make_unique<BpeTokenizer>(std::move(tok));

  EMBODY_ASSIGN_OR_RETURN(auto file, io::SafetensorsFile::Open(dir + "/model.safetensors"));
  m->weights_ = MakeSmolVlaWeightTable(c);
  EMBODY_ASSIGN_OR_RETURN(std::unique_ptr<QuantizedStore> store, QuantizedStore::Open(dir, "smolvla"));
  PrecisionPlan plan;
  if (store) {
    m->weights_.SetSuperseded(store->superseded());
    EMBODY_ASSIGN_OR_RETURN(plan, PrecisionPlan::Parse(store->plan_text(), SmolVlaBlocks()));
    if (!options.plan.empty()) {
      EMBODY_ASSIGN_OR_RETURN(PrecisionPlan asked, PrecisionPlan::Parse(options.plan, SmolVlaBlocks()));
      if (asked.ToString() != plan.ToString()) {
        return InvalidArgument(dir + " is quantized with plan '" + plan.ToString() + "'; --plan '" + options.plan +
                               "' differs (quantize the source checkpoint again for another plan)");
      }
    }
  } else {
    EMBODY_ASSIGN_OR_RETURN(plan, PrecisionPlan::Parse(options.plan, SmolVlaBlocks()));
  }
  m->plan_text_ = plan.ToString();
  if (Status st = m->weights_.Bind(file); !st.ok())
    return st.WithContext("the backbone config (" + c.vlm.source + ") does not match the weights");
  std::vector<Feature> norm_inputs;
  for (const Feature& f : c.inputs)
    if (f.type != FeatureType::kVisual) norm_inputs.push_back(f);
  EMBODY_ASSIGN_OR_RETURN(m->normalizer_, Normalizer::Load(dir, norm_inputs, c.outputs, c.normalization, *file));

  const int64_t ncam = static_cast<int64_t>(c.num_cameras());
  m->max_prefix_ = ncam * c.tokens_per_image() + c.tokenizer_max_length + 1;
  FactoryOptions fo;
  fo.backend = options.backend;
  fo.plan = &plan;
  fo.store = store.get();
  fo.capture = options.capture;
  fo.static_activations = store && store->static_activations();
  OpFactory factory(fo);
  EMBODY_ASSIGN_OR_RETURN(m->vision_, VisionEncoder::Create(c, m->weights_, factory, options.position_ids == SiglipPositionIds::kTransformersFloat32));
  EMBODY_ASSIGN_OR_RETURN(m->text_, TextPrefill::Create(c, m->weights_, factory, m->max_prefix_));
  EMBODY_ASSIGN_OR_RETURN(m->expert_, ActionExpert::Create(c, m->weights_, factory, m->max_prefix_));
  {
    kernels::LinearParams p;
    p.m = 1;
    p.k = c.max_state_dim;
    p.n = c.vlm.text.hidden;
    const std::vector<std::string> w = {"model.state_proj.weight"}, b = {"model.state_proj.bias"};
    EMBODY_ASSIGN_OR_RETURN(m->state_proj_, factory.Linear("llm", "model.state_proj", Keys(w, b), p, false,
                                                           StackedRows(m->weights_, w, b)));
  }
  EMBODY_TRY(factory.CheckPlanFullyUsed());
  m->census_ = factory.census();
  m->weights_.ReleaseFile();

  const int64_t d = c.vlm.text.hidden, kv = int64_t{c.vlm.text.kv_heads} * c.vlm.text.head_dim;
  const int64_t n_act = int64_t{c.chunk_size} * c.max_action_dim;
  m->image_tokens_.resize(static_cast<size_t>(ncam * c.tokens_per_image() * d));
  m->embeds_.resize(static_cast<size_t>(m->max_prefix_ * d));
  m->state_buf_.resize(static_cast<size_t>(c.max_state_dim));
  m->noise_buf_.resize(static_cast<size_t>(n_act));
  m->chunk_buf_.resize(static_cast<size_t>(n_act));
  m->first_velocity_.resize(static_cast<size_t>(n_act));
  m->last_images_.resize(static_cast<size_t>(ncam));
  m->cache_.kv_dim = kv;
  m->cache_.k.assign(static_cast<size_t>(c.num_layers), std::vector<float>(static_cast<size_t>((m->max_prefix_ + c.chunk_size) * kv)));
  m->cache_.v = m->cache_.k;
  m->cache_.cross_k.resize(static_cast<size_t>(c.num_layers));
  m->cache_.cross_v.resize(static_cast<size_t>(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l)
    if (!c.is_self_attn_layer(l)) {
      m->cache_.cross_k[static_cast<size_t>(l)].resize(static_cast<size_t>(m->max_prefix_ * kv));
      m->cache_.cross_v[static_cast<size_t>(l)].resize(static_cast<size_t>(m->max_prefix_ * kv));
    }
  m->times_.vision_ms.assign(static_cast<size_t>(ncam), 0.0);
  return m;
}

void SmolVlaModel::set_threads(Block block, int threads) {
  (block == Block::kVision ? vision_pool_ : block == Block::kLlm ? llm_pool_ : expert_pool_) = ThreadPool(threads);
}

const std::vector<float>& SmolVlaModel::last_preprocessed_image(size_t camera) const { return last_images_.at(camera); }
const std::vector<int32_t>& SmolVlaModel::vision_position_ids() const { return vision_->position_ids(); }

Status SmolVlaModel::EncodeImages(const std::vector<CameraImage>& frames) {
  const SmolVlaConfig& c = config_;
  if (frames.size() != c.num_cameras())
    return InvalidArgument("SmolVLA expects " + std::to_string(c.num_cameras()) + " camera image(s) (" +
                           [&] {
                             std::string names;
                             for (size_t i = 0; i < c.num_cameras(); ++i) names += (i ? ", " : "") + c.camera(i).key;
                             return names;
                           }() +
                           "), got " + std::to_string(frames.size()));
  for (size_t i = 0; i < frames.size(); ++i)
    if (!frames[i].pixels || frames[i].height <= 0 || frames[i].width <= 0)
      return InvalidArgument(c.camera(i).key + ": empty image");
  vision_pool_.BindToCallingThread();
  const int64_t per_cam = int64_t{c.tokens_per_image()} * c.vlm.text.hidden;
  for (size_t i = 0; i < frames.size(); ++i) {
    Stopwatch sw;
    vision_->Run(frames[i].pixels, frames[i].height, frames[i].width, image_tokens_.data() + static_cast<int64_t>(i) * per_cam);
    last_images_[i] = vision_->last_image();
    times_.vision_ms[i] = sw.ElapsedMs();
  }
  images_ready_ = true;
  cache_.length = 0;
  return Status::Ok();
}

Status SmolVlaModel::Prefill(const std::string& task, const float* state) {
  EMBODY_ASSIGN_OR_RETURN(TokenizedTask t, TokenizeTask(*tokenizer_, task, config_.tokenizer_max_length, config_.pad_to_max_length));
  if (t.dropped_tokens > 0 && !options_.truncate_long_tasks)
    return InvalidArgument("the task is " + std::to_string(config_.tokenizer_max_length + t.dropped_tokens) +
                           " tokens but the checkpoint allows " + std::to_string(config_.tokenizer_max_length) +
                           " (LeRobot would silently drop the first " + std::to_string(t.dropped_tokens) +
                           "); shorten it or allow truncation");
  return PrefillTokens(t.ids, t.mask, state);
}

Status SmolVlaModel::PrefillTokens(const std::vector<int32_t>& ids, const std::vector<uint8_t>& mask, const float* state) {
  const SmolVlaConfig& c = config_;
  if (!images_ready_) return FailedPrecondition("Prefill: EncodeImages() must run first");
  if (!state) return InvalidArgument("observation.state is required");
  if (ids.size() != mask.size()) return InvalidArgument("token ids and attention mask differ in length");
  for (int64_t i = 0; i < c.state_dim(); ++i)
    if (!std::isfinite(state[i]))
      return InvalidArgument("observation.state[" + std::to_string(i) + "] is " + (std::isnan(state[i]) ? "NaN" : "infinite"));
  llm_pool_.BindToCallingThread();
  Stopwatch sw;
  token_ids_.clear();
  for (size_t i = 0; i < ids.size(); ++i)
    if (mask[i]) token_ids_.push_back(ids[i]);
  if (token_ids_.empty()) return InvalidArgument("the task has no tokens");
  if (static_cast<int64_t>(token_ids_.size()) > c.tokenizer_max_length)
    return InvalidArgument("the task has " + std::to_string(token_ids_.size()) + " tokens, more than tokenizer_max_length " +
                           std::to_string(c.tokenizer_max_length));
  const int64_t d = c.vlm.text.hidden;
  const int64_t n_img = static_cast<int64_t>(image_tokens_.size()) / d;
  const int64_t n_lang = static_cast<int64_t>(token_ids_.size());
  const int64_t len = n_img + n_lang + 1;
  // Prefix: [image tokens, language tokens, state token].
  std::memcpy(embeds_.data(), image_tokens_.data(), image_tokens_.size() * 4);
  EMBODY_TRY(text_->EmbedTokens(token_ids_.data(), n_lang, embeds_.data() + n_img * d));
  std::fill(state_buf_.begin(), state_buf_.end(), 0.0f);
  std::memcpy(state_buf_.data(), state, static_cast<size_t>(c.state_dim()) * 4);
  if (const FeatureNorm* f = normalizer_.Find("observation.state")) Normalizer::Normalize(*f, state_buf_.data(), c.state_dim());
  state_proj_->Run(state_buf_.data(), embeds_.data() + (len - 1) * d);
  text_->Run(embeds_.data(), len, cache_);
  expert_->ProjectPrefix(cache_);
  times_.llm_ms = sw.ElapsedMs();
  return Status::Ok();
}

Status SmolVlaModel::Denoise(const float* noise, float* actions, float* normalized) {
  const SmolVlaConfig& c = config_;
  if (!cache_.valid()) return FailedPrecondition("Denoise: Prefill() must run first");
  expert_pool_.BindToCallingThread();
  Stopwatch sw;
  const int64_t n = int64_t{c.chunk_size} * c.max_action_dim;
  if (!noise) {  // standard normal, Box-Muller over the seeded generator
    const uint64_t seed = seeded::Fnv1a64("smolvla.noise") ^ noise_counter_++;
    for (int64_t i = 0; i < n; ++i) {
      const float u1 = seeded::Unit(seeded::SplitMix64(seed, static_cast<uint64_t>(2 * i))) + 0x1p-25f;
      const float u2 = seeded::Unit(seeded::SplitMix64(seed, static_cast<uint64_t>(2 * i + 1)));
      noise_buf_[static_cast<size_t>(i)] = std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
    }
    noise = noise_buf_.data();
  }
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(noise[i])) return InvalidArgument("noise[" + std::to_string(i) + "] is not finite");
  expert_->Denoise(cache_, noise, chunk_buf_.data(), first_velocity_.data(), record_trajectory_ ? &trajectory_ : nullptr);
  if (normalized) std::memcpy(normalized, chunk_buf_.data(), static_cast<size_t>(n) * 4);
  if (actions) {
    const int64_t a = c.action_dim();
    const FeatureNorm* f = normalizer_.Find("action");
    for (int64_t t = 0; t < c.chunk_size; ++t) {
      std::memcpy(actions + t * a, chunk_buf_.data() + t * c.max_action_dim, static_cast<size_t>(a) * 4);
      if (f) Normalizer::Unnormalize(*f, actions + t * a, a);
    }
  }
  times_.expert_ms = sw.ElapsedMs();
  return Status::Ok();
}

Status SmolVlaModel::Predict(const std::vector<CameraImage>& frames, const std::string& task, const float* state,
                             const float* noise, float* actions, float* normalized) {
  Stopwatch sw;
  EMBODY_TRY(EncodeImages(frames));
  EMBODY_TRY(Prefill(task, state));
  EMBODY_TRY(Denoise(noise, actions, normalized));
  times_.total_ms = sw.ElapsedMs();
  return Status::Ok();
}

}  // namespace embody::models::smolvla

// Precision plans, quantized checkpoints and `embody quantize`'s library half, on small seeded
// ACT and SmolVLA checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/seeded.h"
#include "data/writer.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "models/act/act_backbone.h"
#include "models/act/act_config.h"
#include "models/act/act_model.h"
#include "models/act/act_seeded_checkpoint.h"
#include "models/act/act_weights.h"
#include "models/common/precision_plan.h"
#include "models/common/quantized_store.h"
#include "models/smolvla/smolvla_model.h"
#include "models/smolvla/smolvla_seeded_checkpoint.h"
#include "quantize/quantize.h"
#include "support/golden_checkpoint.h"

namespace embody {
namespace {

namespace fs = std::filesystem;
using kernels::WeightFormat;
using models::PrecisionPlan;

TEST(PrecisionPlan, ParsesBlocksAndOverrides) {
  auto p = PrecisionPlan::Parse("vision=int8, llm=int4,expert=f32,model.x.layers.0=f16", {"vision", "connector", "llm", "expert"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->For("vision", "a.b"), WeightFormat::kInt8);
  EXPECT_EQ(p->For("connector", "c"), WeightFormat::kF32);
  EXPECT_EQ(p->For("llm", "model.x.layers.0.mlp"), WeightFormat::kF16);
  EXPECT_EQ(p->For("llm", "model.x.layers.0[0:64]"), WeightFormat::kF16);
  EXPECT_EQ(p->For("llm", "model.x.layers.01.mlp"), WeightFormat::kInt4);  // not a prefix at a boundary
  EXPECT_EQ(p->ToString(), "vision=int8,connector=f32,llm=int4,expert=f32,model.x.layers.0=f16");
  EXPECT_FALSE(p->all_f32());
  EXPECT_EQ(p->UnusedOverrides().size(), 1u);
  p->MarkUsed("model.x.layers.0.self_attn");
  EXPECT_TRUE(p->UnusedOverrides().empty());
}

// `*` matches one whole segment (the layer number); a literal override beats a wildcard one of
// the same length, and a longer pattern beats a shorter one.
TEST(PrecisionPlan, WildcardSegmentsMatchEveryLayer) {
  auto p = PrecisionPlan::Parse(
      "encoder=bf16,model.encoder.layers.*.linear1=int8,model.encoder.layers.2.linear1=f32,model.encoder.*=f16",
      {"backbone", "encoder"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->For("encoder", "model.encoder.layers.0.linear1"), WeightFormat::kInt8);
  EXPECT_EQ(p->For("encoder", "model.encoder.layers.13.linear1"), WeightFormat::kInt8);
  EXPECT_EQ(p->For("encoder", "model.encoder.layers.2.linear1"), WeightFormat::kF32);
  EXPECT_EQ(p->For("encoder", "model.encoder.layers.0.linear2"), WeightFormat::kF16);  // model.encoder.*
  EXPECT_EQ(p->For("encoder", "model.encoder.layers.0.linear10"), WeightFormat::kF16);  // segment boundary
  EXPECT_EQ(p->For("encoder", "model.encoder_img_feat_input_proj"), WeightFormat::kBF16);
  EXPECT_EQ(p->For("encoder", "model.encoder.layers.1.self_attn.in_proj[0:1024]"), WeightFormat::kF16);
  p->MarkUsed("model.encoder.layers.5.linear1");
  EXPECT_EQ(p->UnusedOverrides(), std::vector<std::string>{"model.encoder.layers.2.linear1"});
  auto bad = PrecisionPlan::Parse("encoder=int8,model.encoder.layers.1*.linear1=f32", {"encoder"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("whole"), std::string::npos);
}

TEST(PrecisionPlan, RejectsUnknownBlocksAndFormats) {
  auto bad_block = PrecisionPlan::Parse("visoin=int8", {"vision", "llm"});
  ASSERT_FALSE(bad_block.ok());
  EXPECT_NE(bad_block.status().message().find("unknown block 'visoin'"), std::string::npos);
  EXPECT_NE(bad_block.status().message().find("vision, llm"), std::string::npos);
  auto bad_format = PrecisionPlan::Parse("vision=int3", {"vision"});
  ASSERT_FALSE(bad_format.ok());
  EXPECT_NE(bad_format.status().message().find("int3"), std::string::npos);
  EXPECT_FALSE(PrecisionPlan::Parse("vision", {"vision"}).ok());
  EXPECT_TRUE(PrecisionPlan::Parse("", {"vision"})->all_f32());
}

models::act::SeededActSpec SmallAct() {
  models::act::SeededActSpec s;
  s.cameras = {"top"};
  s.height = 32;
  s.width = 64;
  s.chunk_size = s.n_action_steps = 10;
  s.dim_model = 64;
  s.n_heads = 4;
  s.dim_feedforward = 128;
  s.n_encoder_layers = 2;
  s.n_decoder_layers = 1;
  return s;
}

// Normalized actions of a model on the seeded input of step 0.
std::vector<float> ActActions(const std::string& dir, const std::string& plan) {
  models::act::ActOptions o;
  o.plan = plan;
  auto m = models::act::ActModel::Load(dir, o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  const auto& c = (*m)->config();
  std::vector<uint8_t> img(static_cast<size_t>(c.camera(0).shape[1] * c.camera(0).shape[2] * 3));
  seeded::FillImage(0, c.camera(0).key, static_cast<int>(c.camera(0).shape[1]), static_cast<int>(c.camera(0).shape[2]), img.data());
  std::vector<float> state(static_cast<size_t>(c.state_dim()));
  seeded::FillState(0, static_cast<int>(c.state_dim()), state.data());
  models::act::ActObservation obs;
  obs.images.push_back({img.data(), static_cast<int>(c.camera(0).shape[1]), static_cast<int>(c.camera(0).shape[2])});
  obs.state = state.data();
  std::vector<float> out(static_cast<size_t>(c.chunk_size * c.action_dim()));
  const Status st = (*m)->Predict(obs, nullptr, out.data());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(Quantize, ActPlanWritesASelfContainedModel) {
  const std::string src = testing::FreshTempDir("quant_act_src"), out = testing::FreshTempDir("quant_act_out");
  ASSERT_TRUE(models::act::WriteSeededActCheckpoint(src, SmallAct()).ok());
  quantize::QuantizeRequest r;
  r.checkpoint = src;
  r.output = out;
  r.plan = "backbone=int8,encoder=int8";
  r.seeded_samples = 2;
  auto res = quantize::Quantize(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->plan, "backbone=int8,encoder=int8,decoder=f32");
  EXPECT_GT(res->files.ops_quantized, 20);
  ASSERT_EQ(res->sensitivity.size(), 3u);  // backbone alone, encoder alone, the plan
  EXPECT_LT(res->sensitivity.back().action_max_std, 0.25);
  EXPECT_GT(res->sensitivity.back().action_max_std, 0.0);  // really quantized
  EXPECT_EQ(res->census.at("backbone").at("int8"), 20);   // ResNet18: 20 convolutions
  EXPECT_EQ(res->census.at("decoder").count("int8"), 0u);

  // Superseded weights are gone from the kept file; the packed ones are smaller.
  auto kept = io::SafetensorsFile::Open(out + "/model.safetensors");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ((*kept)->Find("model.backbone.layer1.0.conv1.weight"), nullptr);
  EXPECT_EQ((*kept)->Find("model.encoder.layers.0.linear1.weight"), nullptr);
  EXPECT_NE((*kept)->Find("model.decoder.layers.0.linear1.weight"), nullptr);
  EXPECT_NE((*kept)->Find("model.encoder.layers.0.norm1.weight"), nullptr);
  EXPECT_LT(res->files.model_bytes + res->files.quantized_bytes, res->source_model_bytes / 2);

  // The quantized folder loads like any checkpoint and agrees with quantizing at load time.
  const std::vector<float> f32 = ActActions(src, ""), q_file = ActActions(out, ""), q_load = ActActions(src, r.plan);
  EXPECT_EQ(MaxAbsDiff(q_file, q_load), 0.0f);
  EXPECT_GT(MaxAbsDiff(q_file, f32), 0.0f);
  EXPECT_LT(MaxAbsDiff(q_file, f32), 0.25f);
}

// A LeRobot dataset with one camera of `h` x `w` and a 6-d state: `episodes` of 12 frames.
void WriteCalibrationDataset(const std::string& root, int h, int w, int episodes) {
  data::DatasetSpec spec;
  spec.state_names = spec.action_names = {"a.pos", "b.pos", "c.pos", "d.pos", "e.pos", "f.pos"};
  spec.cameras = {{"top", h, w}};
  data::WriterOptions options;
  options.video.codecs = {"libx264"};  // SVT-AV1 refuses frames under 64 rows (and says so)
  auto writer = data::DatasetWriter::Create(root, spec, options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (int e = 0; e < episodes; ++e) {
    ASSERT_TRUE((*writer)->BeginEpisode({}).ok());
    for (int f = 0; f < 12; ++f) {
      float st[6], ac[6];
      for (int j = 0; j < 6; ++j) st[j] = 0.1f * f - 0.3f * j + e, ac[j] = -st[j];
      std::vector<uint8_t> img(static_cast<size_t>(h * w * 3));
      seeded::FillImage(e * 100 + f, "observation.images.top", h, w, img.data());
      data::FrameInput in;
      in.state = st;
      in.action = ac;
      in.images.push_back(img.data());
      ASSERT_TRUE((*writer)->AddFrame(in).ok());
    }
    ASSERT_TRUE((*writer)->EndEpisode().ok());
  }
  ASSERT_TRUE((*writer)->Close().ok());
}

// --calib dataset: calibration on recorded frames, the report on other frames of the same
// dataset; a dataset whose cameras do not fit the policy is an error naming the camera.
TEST(Quantize, CalibratesOnARecordedDataset) {
  const std::string src = testing::FreshTempDir("quant_ds_src"), out = testing::FreshTempDir("quant_ds_out");
  const std::string ds = testing::FreshTempDir("quant_ds_data") + "/ds", bad = testing::FreshTempDir("quant_ds_bad") + "/ds";
  ASSERT_TRUE(models::act::WriteSeededActCheckpoint(src, SmallAct()).ok());
  WriteCalibrationDataset(ds, 32, 64, 2);
  quantize::QuantizeRequest r;
  r.checkpoint = src;
  r.output = out;
  r.plan = "backbone=int8,encoder=int8";
  r.static_activations = true;
  r.calib_dataset = ds;
  r.dataset_samples = 3;
  auto res = quantize::Quantize(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->sensitivity.size(), 3u);
  EXPECT_GT(res->sensitivity.back().action_max_std, 0.0);
  EXPECT_LT(res->sensitivity.back().action_max_std, 0.5);
  auto meta = io::ReadJsonFile(out + "/" + models::kQuantMetadataFile);
  ASSERT_TRUE(meta.ok());
  EXPECT_TRUE(meta->value("static_activations", false));  // scales fitted to the dataset's frames

  WriteCalibrationDataset(bad, 24, 64, 1);
  r.calib_dataset = bad;
  auto wrong = quantize::Quantize(r);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("observation.images.top"), std::string::npos) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("24x64"), std::string::npos);
  r.calib_dataset = ds + "-missing";
  EXPECT_FALSE(quantize::Quantize(r).ok());
}

TEST(Quantize, BadRequestsAndFilesGiveClearErrors) {
  const std::string src = testing::FreshTempDir("quant_bad_src"), out = testing::FreshTempDir("quant_bad_out");
  ASSERT_TRUE(models::act::WriteSeededActCheckpoint(src, SmallAct()).ok());
  quantize::QuantizeRequest r;
  r.checkpoint = src;
  r.output = out;
  r.seeded_samples = 1;
  r.report = false;
  r.plan = "vision=int8";
  auto unknown = quantize::Quantize(r);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("backbone, encoder, decoder"), std::string::npos);
  r.plan = "backbone=f32";
  EXPECT_FALSE(quantize::Quantize(r).ok());  // nothing to do
  r.plan = "decoder=int4,model.encoder.layers.7=int8";
  auto stray = quantize::Quantize(r);
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.status().message().find("model.encoder.layers.7"), std::string::npos);

  r.plan = "decoder=int4";
  ASSERT_TRUE(quantize::Quantize(r).ok());
  // A different plan on a quantized folder, quantizing it again, another format version.
  models::act::ActOptions o;
  o.plan = "decoder=int8";
  auto other = models::act::ActModel::Load(out, o);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("decoder=int4"), std::string::npos);
  quantize::QuantizeRequest again = r;
  again.checkpoint = out;
  again.output = out + "_again";
  EXPECT_FALSE(quantize::Quantize(again).ok());
  auto meta = io::ReadJsonFile(out + "/embody_quant.json");
  ASSERT_TRUE(meta.ok());
  (*meta)["format_version"] = 99;
  ASSERT_TRUE(io::WriteJsonFile(out + "/embody_quant.json", *meta).ok());
  auto old = models::act::ActModel::Load(out, {});
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("format_version"), std::string::npos);
}

// The ACT backbone of checkpoint `dir` built as ActModel::Load builds it, with `plan` unless the
// folder is quantized; `arena` receives its buffers.
std::unique_ptr<models::act::ResNetBackbone> LoadBackbone(const std::string& dir, const std::string& plan_text,
                                                          kernels::Backend backend, Arena& arena,
                                                          models::QuantCapture* capture = nullptr) {
  auto c = models::act::LoadActConfig(dir + "/config.json");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  auto file = io::SafetensorsFile::Open(dir + "/model.safetensors");
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  auto store = models::QuantizedStore::Open(dir, "act");
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!c.ok() || !file.ok() || !store.ok()) return nullptr;
  models::WeightTable table = models::act::MakeActWeightTable(*c);
  if (*store) table.SetSuperseded((*store)->superseded());
  EXPECT_TRUE(table.Bind(*file).ok());
  auto plan = PrecisionPlan::Parse(*store ? (*store)->plan_text() : plan_text, models::act::ActBlocks());
  EXPECT_TRUE(plan.ok());
  models::FactoryOptions fo;
  fo.backend = backend;
  fo.plan = &*plan;
  fo.store = store->get();
  fo.capture = capture;
  fo.static_activations = *store && (*store)->static_activations();
  models::OpFactory factory(fo);
  auto bb = models::act::ResNetBackbone::Create(*c, table, factory, c->camera(0).shape[1], c->camera(0).shape[2],
                                                false, arena);
  EXPECT_TRUE(bb.ok()) << bb.status().ToString();
  if (!bb.ok()) return nullptr;
  arena.Commit();
  (*bb)->BindArena(arena);
  return std::move(*bb);
}

std::vector<float> Tokens(models::act::ResNetBackbone& bb, const std::vector<float>& image) {
  std::vector<float> t(static_cast<size_t>(bb.out_h() * bb.out_w() * models::act::ResNetBackbone::kOutChannels));
  bb.Run(image.data(), t.data());
  return t;
}

double RelErr(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

TEST(Quantize, ActInt8BackboneRunsAsAPipeline) {
  const std::string src = testing::FreshTempDir("quant_bb_src"), out = testing::FreshTempDir("quant_bb_out");
  ASSERT_TRUE(models::act::WriteSeededActCheckpoint(src, SmallAct()).ok());
  quantize::QuantizeRequest r;
  r.checkpoint = src;
  r.output = out;
  r.plan = "backbone=int8";
  r.seeded_samples = 2;
  r.static_activations = true;
  r.report = false;
  ASSERT_TRUE(quantize::Quantize(r).ok());
  const models::act::SeededActSpec spec = SmallAct();
  std::vector<float> image(static_cast<size_t>(3 * spec.height * spec.width));
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> pixel(-2.0f, 2.5f);  // a normalized camera image's range
  for (float& v : image) v = pixel(gen);

  Arena a_f32, a_static, a_load, a_ref, a_capture;
  auto f32 = LoadBackbone(src, "", kernels::Backend::kOneDnn, a_f32);
  ASSERT_NE(f32, nullptr);
  EXPECT_EQ(f32->mode(), "f32");
  const std::vector<float> want = Tokens(*f32, image);

  // Calibrated ranges from the checkpoint: the pipeline from the start.
  auto stat = LoadBackbone(out, "", kernels::Backend::kOneDnn, a_static);
  ASSERT_NE(stat, nullptr);
  EXPECT_EQ(stat->mode(), "int8 pipeline");
  const std::vector<float> got = Tokens(*stat, image);
  EXPECT_GT(RelErr(got, want), 0.0);
  EXPECT_LT(RelErr(got, want), 0.05);

  // The scalar reference of the same pipeline agrees with oneDNN up to a unit of rounding here
  // and there.
  auto ref = LoadBackbone(out, "", kernels::Backend::kReference, a_ref);
  ASSERT_NE(ref, nullptr);
  EXPECT_EQ(ref->mode(), "int8 pipeline");
  EXPECT_LT(RelErr(Tokens(*ref, image), got), 0.01);

  // --plan at load: the first image runs per op and calibrates, the pipeline runs from then on.
  auto load = LoadBackbone(src, "backbone=int8", kernels::Backend::kOneDnn, a_load);
  ASSERT_NE(load, nullptr);
  EXPECT_EQ(load->mode(), "int8 pipeline (calibrating on the first observation)");
  const std::vector<float> dark(image.size(), -2.0f);  // a blank frame does not calibrate
  Tokens(*load, dark);
  EXPECT_EQ(load->mode(), "int8 pipeline (calibrating on the first observation)");
  const std::vector<float> first = Tokens(*load, image);
  EXPECT_EQ(load->mode(), "int8 pipeline");
  const std::vector<float> second = Tokens(*load, image);
  EXPECT_LT(RelErr(first, want), 0.05);
  EXPECT_LT(RelErr(second, want), 0.05);
  EXPECT_GT(RelErr(second, first), 0.0);  // really another path
  EXPECT_EQ(Tokens(*load, image), second);

  // While embody quantize observes ops, the backbone runs them one by one on f32 activations.
  models::QuantCapture capture;
  capture.observe = true;
  auto observed = LoadBackbone(src, "backbone=int8", kernels::Backend::kOneDnn, a_capture, &capture);
  ASSERT_NE(observed, nullptr);
  EXPECT_EQ(observed->mode(), "int8 per op");
  Tokens(*observed, image);
  EXPECT_GT(capture.ops().at("model.backbone.layer2.0.downsample.0").activation_absmax, 0.0f);
}

TEST(Quantize, SmolVlaKeepsTheExpertF32AndReportsPerStepError) {
  models::smolvla::SeededSmolVlaSpec s;
  s.cameras = {"top", "wrist"};
  s.height = 48;
  s.width = 64;
  s.chunk_size = s.n_action_steps = 5;
  s.num_steps = 3;
  s.num_vlm_layers = 2;
  s.vlm.vision = {32, 1, 2, 64, 16, 64, 1e-6f};
  s.vlm.text = {32, 4, 4, 2, 8, 64, 49280, 1e-5f};
  s.vlm.scale_factor = 2;
  s.tokenizer_dir = testing::SharedDataDir() + "/smolvlm2-tokenizer";
  const std::string src = testing::FreshTempDir("quant_vla_src"), out = testing::FreshTempDir("quant_vla_out");
  ASSERT_TRUE(models::smolvla::WriteSeededSmolVlaCheckpoint(src, s).ok());
  quantize::QuantizeRequest r;
  r.checkpoint = src;
  r.output = out;
  r.plan = "vision=int8,connector=int8,llm=int4";
  r.seeded_samples = 2;
  auto res = quantize::Quantize(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->census.at("expert").count("int8"), 0u);
  EXPECT_GT(res->census.at("llm").at("int4"), 0);
  const auto& plan = res->sensitivity.back();
  EXPECT_EQ(plan.expert_step_rel_err.size(), 3u);
  EXPECT_GT(plan.block_rel_err.at("vision+connector"), 0.0);
  EXPECT_LT(plan.block_rel_err.at("vision+connector"), 0.2);
  models::smolvla::SmolVlaOptions o;
  auto m = models::smolvla::SmolVlaModel::Load(out, o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->plan(), "vision=int8,connector=int8,llm=int4,expert=f32");
}

}  // namespace
}  // namespace embody

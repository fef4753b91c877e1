#include "models/smolvla/smolvla_weights.h"

namespace embody::models::smolvla {

WeightTable MakeSmolVlaWeightTable(const SmolVlaConfig& c) {
  WeightTable t;
  const auto& v = c.vlm.vision;
  const auto& x = c.vlm.text;
  const int64_t dv = v.hidden, dt = x.hidden, de = c.expert_hidden;
  const int64_t q_dim = int64_t{x.heads} * x.head_dim, kv_dim = int64_t{x.kv_heads} * x.head_dim;
  const std::string vm = kVlm + "vision_model.";
  t.Expect(vm + "embeddings.patch_embedding.weight", {dv, 3, v.patch, v.patch});
  t.Expect(vm + "embeddings.patch_embedding.bias", {dv});
  t.Expect(vm + "embeddings.position_embedding.weight", {c.patches_per_image(), dv});
  for (int i = 0; i < v.layers; ++i) {
    const std::string p = vm + "encoder.layers." + std::to_string(i) + ".";
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      t.Expect(p + "self_attn." + proj + ".weight", {dv, dv});
      t.Expect(p + "self_attn." + proj + ".bias", {dv});
    }
    for (const char* n : {"layer_norm1", "layer_norm2"}) {
      t.Expect(p + n + ".weight", {dv});
      t.Expect(p + n + ".bias", {dv});
    }
    t.Expect(p + "mlp.fc1.weight", {v.intermediate, dv});
    t.Expect(p + "mlp.fc1.bias", {v.intermediate});
    t.Expect(p + "mlp.fc2.weight", {dv, v.intermediate});
    t.Expect(p + "mlp.fc2.bias", {dv});
  }
  t.Expect(vm + "post_layernorm.weight", {dv});
  t.Expect(vm + "post_layernorm.bias", {dv});
  t.Expect(kVlm + "connector.modality_projection.proj.weight", {dt, dv * c.vlm.scale_factor * c.vlm.scale_factor});
  t.Expect(kVlm + "text_model.embed_tokens.weight", {x.vocab, dt});
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = kVlm + "text_model.layers." + std::to_string(i) + ".";
    t.Expect(p + "self_attn.q_proj.weight", {q_dim, dt});
    t.Expect(p + "self_attn.k_proj.weight", {kv_dim, dt});
    t.Expect(p + "self_attn.v_proj.weight", {kv_dim, dt});
    t.Expect(p + "self_attn.o_proj.weight", {dt, q_dim});
    t.Expect(p + "mlp.gate_proj.weight", {x.intermediate, dt});
    t.Expect(p + "mlp.up_proj.weight", {x.intermediate, dt});
    t.Expect(p + "mlp.down_proj.weight", {dt, x.intermediate});
    t.Expect(p + "input_layernorm.weight", {dt});
    t.Expect(p + "post_attention_layernorm.weight", {dt});
  }
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = kExpert + "layers." + std::to_string(i) + ".";
    const int64_t kv_in = c.is_self_attn_layer(i) ? de : kv_dim;
    t.Expect(p + "self_attn.q_proj.weight", {q_dim, de});
    t.Expect(p + "self_attn.k_proj.weight", {kv_dim, kv_in});
    t.Expect(p + "self_attn.v_proj.weight", {kv_dim, kv_in});
    t.Expect(p + "self_attn.o_proj.weight", {de, q_dim});
    t.Expect(p + "mlp.gate_proj.weight", {c.expert_intermediate, de});
    t.Expect(p + "mlp.up_proj.weight", {c.expert_intermediate, de});
    t.Expect(p + "mlp.down_proj.weight", {de, c.expert_intermediate});
    t.Expect(p + "input_layernorm.weight", {de});
    t.Expect(p + "post_attention_layernorm.weight", {de});
  }
  t.Expect(kExpert + "norm.weight", {de});
  t.Expect("model.state_proj.weight", {dt, c.max_state_dim});
  t.Expect("model.state_proj.bias", {dt});
  t.Expect("model.action_in_proj.weight", {de, c.max_action_dim});
  t.Expect("model.action_in_proj.bias", {de});
  t.Expect("model.action_out_proj.weight", {c.max_action_dim, de});
  t.Expect("model.action_out_proj.bias", {c.max_action_dim});
  t.Expect("model.action_time_mlp_in.weight", {de, 2 * de});
  t.Expect("model.action_time_mlp_in.bias", {de});
  t.Expect("model.action_time_mlp_out.weight", {de, de});
  t.Expect("model.action_time_mlp_out.bias", {de});
  return t;
}

}  // namespace embody::models::smolvla

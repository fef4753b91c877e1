// libFuzzer target: meta/info.json and meta/stats.json parsing (data::ParseInfoText, StatsFromJson).
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/info.h"
#include "data/stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto info = embody::data::ParseInfoText(text, "fuzz/info.json");
  if (info.ok()) {
    auto back = embody::data::ParseInfo(embody::data::InfoToJson(*info), "roundtrip");
    if (!back.ok()) __builtin_trap();  // what we write must parse
    for (const auto& f : info->features) (void)f.height(), (void)f.numel();
  }
  auto j = embody::io::Json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    auto st = embody::data::StatsFromJson(j, "fuzz/stats.json");
    if (st.ok()) (void)embody::data::StatsToJson(*st);
  }
  return 0;
}

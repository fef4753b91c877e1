#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace embody::robot::testing {
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline const nlohmann::json& Golden() {
  static const nlohmann::json g = nlohmann::json::parse(ReadText(EMBODY_ROBOT_TESTDATA "/feetech_golden.json"));
  return g;
}
inline std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}
inline const nlohmann::json& Case(const std::string& name) {
  for (const auto& c : Golden()["packets"]) if (c["name"] == name) return c;
  throw std::runtime_error("no golden case " + name);
}
}  // namespace embody::robot::testing

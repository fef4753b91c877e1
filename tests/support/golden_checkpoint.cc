#include "support/golden_checkpoint.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/seeded.h"
#include "io/safetensors.h"

namespace embody::testing {

namespace fs = std::filesystem;

std::string TestdataDir() { return EMBODY_TESTDATA_DIR; }
std::string SharedDataDir() { return EMBODY_SHARED_DATA_DIR; }

namespace {

fs::path ProcessTempRoot() { return fs::temp_directory_path() / ("embody_test_" + std::to_string(::getpid())); }

// Removes this process's temporary folder when the tests end: materialized checkpoints are up
// to a few hundred MB each, and ctest starts one process per test.
class TempCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(ProcessTempRoot(), ec);
  }
};
[[maybe_unused]] ::testing::Environment* const kTempCleanup = ::testing::AddGlobalTestEnvironment(new TempCleanup);

}  // namespace

std::string FreshTempDir(const std::string& name) {
  const fs::path dir = ProcessTempRoot() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

Result<std::string> MaterializeGoldenCase(const std::string& policy, const std::string& name) {
  const fs::path src = fs::path(TestdataDir()) / "golden" / policy / name;
  if (!fs::exists(src)) return NotFound(src.string() + ": no such golden case");
  const std::string dir = FreshTempDir(policy + "_" + name);
  for (const auto& entry : fs::directory_iterator(src)) {
    const std::string file = entry.path().filename().string();
    if (file == "manifest.json" || file == "expected.json") continue;
    fs::copy_file(entry.path(), fs::path(dir) / file);
  }
  EMBODY_ASSIGN_OR_RETURN(io::Json manifest, io::ReadJsonFile((src / "manifest.json").string()));
  const uint64_t base_seed = manifest.value("base_seed", uint64_t{0});
  std::vector<Tensor> keep;
  keep.reserve(manifest["tensors"].size());
  io::SafetensorsWriter writer;
  for (const auto& t : manifest["tensors"]) {
    const std::string key = t["key"].get<std::string>();
    const Shape shape(t["shape"].get<std::vector<int64_t>>());
    const std::string dtype = t["dtype"].get<std::string>();
    Tensor f32 = Tensor::Zeros(DType::kF32, shape);
    if (t.contains("values")) {
      const auto values = t["values"].get<std::vector<float>>();
      if (static_cast<int64_t>(values.size()) != shape.numel()) return DataLoss(key + ": values do not match its shape");
      std::copy(values.begin(), values.end(), f32.data<float>());
    } else if (!t.contains("generator")) {
      seeded::FillWeight(key, shape, base_seed, f32.data<float>());
    }
    Tensor stored = f32;
    if (dtype == "bfloat16") {
      stored = Tensor::Empty(DType::kBF16, shape);
      for (int64_t i = 0; i < shape.numel(); ++i) stored.data<uint16_t>()[i] = F32ToBf16(f32.data<float>()[i]);
    } else if (dtype != "float32") {
      return Unimplemented(key + ": manifest dtype " + dtype);
    }
    // Generated buffers (LeRobot's fixed sinusoid of the training-only VAE encoder) are left at
    // zero: inference never reads them, so their bytes are not compared.
    if (!t.contains("generator") && t.contains("fnv")) {
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx",
                    static_cast<unsigned long long>(seeded::Fnv1a64(stored.raw(), stored.nbytes())));
      if (t["fnv"].get<std::string>() != hex)
        return DataLoss(key + ": seeded bytes differ from LeRobot's side (fnv " + hex + " vs " +
                        t["fnv"].get<std::string>() + ")");
    }
    keep.push_back(stored);
    writer.Add(key, keep.back());
  }
  EMBODY_TRY(writer.Write(dir + "/model.safetensors"));
  return dir;
}

}  // namespace embody::testing

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "io/safetensors.h"
#include "support/golden_checkpoint.h"

namespace embody {
namespace {

void WriteRaw(const std::string& path, const std::string& header, size_t data_bytes) {
  std::ofstream f(path, std::ios::binary);
  const uint64_t n = header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header;
  f << std::string(data_bytes, '\0');
}

TEST(Safetensors, RoundTripsF32AndBf16) {
  const std::string dir = testing::FreshTempDir("st_roundtrip");
  Tensor a = Tensor::Empty(DType::kF32, {2, 3});
  for (int i = 0; i < 6; ++i) a.data<float>()[i] = static_cast<float>(i) - 2.5f;
  Tensor b = Tensor::Empty(DType::kBF16, {4});
  for (int i = 0; i < 4; ++i) b.data<uint16_t>()[i] = F32ToBf16(static_cast<float>(i));
  io::SafetensorsWriter w;
  w.Add("a", a);
  w.Add("b", b);
  w.SetMetadata("format", "pt");
  ASSERT_TRUE(w.Write(dir + "/x.safetensors").ok());
  auto f = io::SafetensorsFile::Open(dir + "/x.safetensors");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->entries().size(), 2u);
  EXPECT_EQ((*f)->metadata().at("format"), "pt");
  auto ra = (*f)->ReadF32("a");
  ASSERT_TRUE(ra.ok());
  EXPECT_EQ(ra->data<float>()[5], 2.5f);
  auto rb = (*f)->ReadF32("b");
  EXPECT_EQ(rb->data<float>()[3], 3.0f);
  Shape wrong{3, 2};
  auto bad = (*f)->ReadF32("a", &wrong);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("expected [3, 2]"), std::string::npos);
  auto missing = (*f)->View("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("x.safetensors"), std::string::npos);
}

struct Corrupt {
  const char* name;
  std::string header;
  size_t data;
  const char* expect;
};

TEST(Safetensors, RejectsCorruptFilesWithClearErrors) {
  const std::string dir = testing::FreshTempDir("st_corrupt");
  const Corrupt cases[] = {
      {"not_json", "{oops", 0, "not valid JSON"},
      {"bad_dtype", R"({"t":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", 1, "unsupported dtype"},
      {"size_mismatch", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4, "needs 8"},
      {"truncated", R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8, "truncated"},
      {"overlap", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12, "overlap"},
      {"negative_dim", R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, "negative"},
      {"no_offsets", R"({"t":{"dtype":"F32","shape":[1]}})", 4, "data_offsets"},
  };
  for (const Corrupt& c : cases) {
    const std::string path = dir + "/" + c.name + ".safetensors";
    WriteRaw(path, c.header, c.data);
    auto f = io::SafetensorsFile::Open(path);
    ASSERT_FALSE(f.ok()) << c.name;
    EXPECT_NE(f.status().message().find(c.expect), std::string::npos) << c.name << ": " << f.status().ToString();
    EXPECT_NE(f.status().message().find(path), std::string::npos) << "error must name the file";
  }
  // Shorter than the length prefix, and a length larger than the file.
  { std::ofstream(dir + "/tiny.safetensors") << "abc"; }
  EXPECT_EQ(io::SafetensorsFile::Open(dir + "/tiny.safetensors").status().code(), StatusCode::kDataLoss);
  WriteRaw(dir + "/long.safetensors", "", 0);
  {
    std::fstream f(dir + "/long.safetensors", std::ios::binary | std::ios::in | std::ios::out);
    const uint64_t n = 1ull << 40;
    f.write(reinterpret_cast<const char*>(&n), 8);
  }
  EXPECT_EQ(io::SafetensorsFile::Open(dir + "/long.safetensors").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(io::SafetensorsFile::Open(dir + "/absent.safetensors").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace embody

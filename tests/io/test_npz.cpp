// .npz archives: round trips through save_npz/load_npz, a zip built byte by
// byte here, NumPy itself when Debian's python3-numpy is installed, and
// corrupt archives.
#include "gps/core/check.h"
#include "gps/io/npy.h"
#include "gps/io/npz.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>

using namespace gps;
using ::testing::HasSubstr;

namespace {

std::map<std::string, torch::Tensor> sample_arrays() {
  torch::manual_seed(3);
  std::map<std::string, torch::Tensor> m;
  m["weights"] = torch::randn({3, 4}, torch::kFloat32);
  m["ids"] = torch::tensor({int64_t(-5), int64_t(0), int64_t(7), int64_t(1) << 40}, torch::kInt64);
  m["pixels"] = torch::arange(2 * 3 * 4, torch::kInt64).to(torch::kUInt8).reshape({2, 3, 4});
  m["f64"] = torch::tensor({0.5, -1.25}, torch::kFloat64);
  m["i32"] = torch::tensor({1, -2, 3}, torch::kInt32);
  m["backbone.layer1.0.conv1.weight"] = torch::randn({2, 1, 3, 3});
  return m;
}

void expect_same(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : a) {
    ASSERT_TRUE(b.count(k)) << k;
    EXPECT_EQ(b.at(k).scalar_type(), v.scalar_type()) << k;
    EXPECT_EQ(b.at(k).sizes(), v.sizes()) << k;
    EXPECT_TRUE(torch::equal(b.at(k), v.contiguous())) << k;
  }
}

void put16(std::string& s, uint32_t v) {
  s.push_back(char(v & 0xff));
  s.push_back(char((v >> 8) & 0xff));
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

// A zip archive with stored (uncompressed) members, written by hand from the
// PKWARE APPNOTE layout: local headers + data, central directory, end record.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, central;
  for (const auto& [name, data] : members) {
    const uint32_t crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), uInt(data.size()));
    const uint32_t offset = uint32_t(out.size());
    put32(out, 0x04034b50);
    put16(out, 20);  // version needed
    put16(out, 0);   // flags
    put16(out, 0);   // method: stored
    put16(out, 0);   // time
    put16(out, 0x21);  // date 1980-01-01
    put32(out, crc);
    put32(out, uint32_t(data.size()));
    put32(out, uint32_t(data.size()));
    put16(out, uint16_t(name.size()));
    put16(out, 0);
    out += name + data;
    put32(central, 0x02014b50);
    put16(central, 20);
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0x21);
    put32(central, crc);
    put32(central, uint32_t(data.size()));
    put32(central, uint32_t(data.size()));
    put16(central, uint16_t(name.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, offset);
    central += name;
  }
  const uint32_t cd_offset = uint32_t(out.size());
  out += central;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, uint16_t(members.size()));
  put16(out, uint16_t(members.size()));
  put32(out, uint32_t(central.size()));
  put32(out, cd_offset);
  put16(out, 0);
  return out;
}

std::string npy_file_bytes(const torch::Tensor& t) {
  auto c = t.contiguous();
  return npy_header(c) + std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

bool numpy_available() {
  return std::filesystem::exists(GPS_PYTHON "") &&
         std::system(GPS_PYTHON " -c 'import numpy' >/dev/null 2>&1") == 0;
}

}  // namespace

TEST(Npz, RoundTripStoredAndCompressed) {
  test::TempDir tmp;
  const auto arrays = sample_arrays();
  for (bool compress : {false, true}) {
    const auto path = tmp.file(compress ? "c.npz" : "s.npz");
    save_npz(path, arrays, compress);
    expect_same(arrays, load_npz(path));
  }
  // Compression must actually shrink a compressible array.
  std::map<std::string, torch::Tensor> zeros = {{"z", torch::zeros({100000}, torch::kFloat32)}};
  save_npz(tmp.file("zs.npz"), zeros, false);
  save_npz(tmp.file("zc.npz"), zeros, true);
  EXPECT_GT(std::filesystem::file_size(tmp.file("zs.npz")), 400000u);
  EXPECT_LT(std::filesystem::file_size(tmp.file("zc.npz")), 10000u);
  expect_same(zeros, load_npz(tmp.file("zc.npz")));
}

TEST(Npz, SavesNonContiguousAndGradTensorsAndOverwrites) {
  test::TempDir tmp;
  auto base = torch::arange(12, torch::kFloat32).reshape({3, 4});
  auto w = torch::ones({2, 2}, torch::requires_grad());
  save_npz(tmp.file("a.npz"), {{"t", base.t()}, {"w", w}});
  auto back = load_npz(tmp.file("a.npz"));
  EXPECT_TRUE(torch::equal(back["t"], base.t().contiguous()));
  EXPECT_TRUE(torch::equal(back["w"], torch::ones({2, 2})));
  save_npz(tmp.file("a.npz"), {{"only", torch::tensor({1}, torch::kInt64)}});
  auto again = load_npz(tmp.file("a.npz"));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again.begin()->first, "only");
}

TEST(Npz, EmptyArchiveAndSelectedMembers) {
  test::TempDir tmp;
  save_npz(tmp.file("e.npz"), {});
  EXPECT_TRUE(load_npz(tmp.file("e.npz")).empty());
  save_npz(tmp.file("m.npz"), sample_arrays());
  const auto names = list_npz(tmp.file("m.npz"));
  EXPECT_EQ(names.size(), sample_arrays().size());
  auto some = load_npz(tmp.file("m.npz"), {"ids", "pixels"});
  ASSERT_EQ(some.size(), 2u);
  EXPECT_TRUE(torch::equal(some["ids"], sample_arrays()["ids"]));
  const auto msg = test::error_of([&] { load_npz(tmp.file("m.npz"), {"ids", "train_images"}); });
  EXPECT_THAT(msg, HasSubstr(tmp.file("m.npz")));
  EXPECT_THAT(msg, HasSubstr("no array 'train_images'"));
  EXPECT_THAT(msg, HasSubstr("pixels"));  // lists what is present
}

TEST(Npz, ReadsAHandBuiltStoredZip) {
  test::TempDir tmp;
  auto a = torch::arange(6, torch::kInt64).reshape({2, 3});
  auto b = torch::tensor({1.5f, -2.0f});
  test::write_bytes(tmp.file("h.npz"), stored_zip({{"a.npy", npy_file_bytes(a)},
                                                   {"notes.txt", "not an array"},
                                                   {"b.npy", npy_file_bytes(b)}}));
  auto m = load_npz(tmp.file("h.npz"));
  ASSERT_EQ(m.size(), 2u);  // notes.txt is ignored
  EXPECT_TRUE(torch::equal(m["a"], a));
  EXPECT_TRUE(torch::equal(m["b"], b));
}

TEST(Npz, RejectsCorruptArchives) {
  test::TempDir tmp;
  test::write_bytes(tmp.file("text.npz"), "this is not a zip archive at all, just text");
  auto msg = test::error_of([&] { load_npz(tmp.file("text.npz")); });
  EXPECT_THAT(msg, HasSubstr(tmp.file("text.npz")));
  EXPECT_THAT(msg, HasSubstr("Not a zip archive"));

  EXPECT_THAT(test::error_of([&] { load_npz(tmp.file("missing.npz")); }), HasSubstr(tmp.file("missing.npz")));

  // A flipped data byte: the member's CRC no longer matches.
  auto a = torch::arange(64, torch::kInt64);
  std::string zip = stored_zip({{"a.npy", npy_file_bytes(a)}});
  zip[30 + 5 + 200] ^= 0x55;  // local header (30) + name (5) + into the data
  test::write_bytes(tmp.file("crc.npz"), zip);
  msg = test::error_of([&] { load_npz(tmp.file("crc.npz")); });
  EXPECT_THAT(msg, HasSubstr(tmp.file("crc.npz") + ":a.npy"));
  EXPECT_THAT(msg, HasSubstr("CRC"));

  // A member that is not a valid .npy (bool dtype).
  std::string npy = npy_file_bytes(torch::tensor({1}, torch::kUInt8));
  npy.replace(npy.find("|u1"), 3, "|b1");
  test::write_bytes(tmp.file("bool.npz"), stored_zip({{"flags.npy", npy}}));
  msg = test::error_of([&] { load_npz(tmp.file("bool.npz")); });
  EXPECT_THAT(msg, HasSubstr("bool.npz:flags.npy"));
  EXPECT_THAT(msg, HasSubstr("unsupported .npy dtype '|b1'"));

  // An archive cut in half.
  save_npz(tmp.file("full.npz"), sample_arrays());
  std::ifstream f(tmp.file("full.npz"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  test::write_bytes(tmp.file("cut.npz"), bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(test::error_of([&] { load_npz(tmp.file("cut.npz")); }), HasSubstr(tmp.file("cut.npz")));
}

TEST(Npz, RejectsUnsupportedDtypeOnSave) {
  test::TempDir tmp;
  const auto msg = test::error_of([&] { save_npz(tmp.file("x.npz"), {{"h", torch::ones({2}, torch::kFloat16)}}); });
  EXPECT_THAT(msg, HasSubstr(tmp.file("x.npz")));
  EXPECT_THAT(msg, HasSubstr("'h'"));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("x.npz")));
}

TEST(Npz, InteroperatesWithNumpy) {
  if (!numpy_available()) GTEST_SKIP() << GPS_PYTHON " with numpy not installed (the project venv: scripts/setup.sh)";
  test::TempDir tmp;
  // NumPy writes, we read.
  for (const char* fn : {"savez", "savez_compressed"}) {
    const auto path = tmp.file(std::string(fn) + ".npz");
    const std::string cmd = GPS_PYTHON " -c \"import numpy as np; np." + std::string(fn) + "('" + path +
                            "', a=np.arange(12, dtype=np.float32).reshape(3, 4), b=np.array([[3], [250]], "
                            "dtype=np.uint8), c=np.array([-1, 2**40], dtype=np.int64))\"";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto m = load_npz(path);
    EXPECT_TRUE(torch::equal(m["a"], torch::arange(12, torch::kFloat32).reshape({3, 4}))) << fn;
    EXPECT_TRUE(torch::equal(m["b"], torch::tensor({3, 250}, torch::kInt64).to(torch::kUInt8).reshape({2, 1}))) << fn;
    EXPECT_TRUE(torch::equal(m["c"], torch::tensor({int64_t(-1), int64_t(1) << 40}))) << fn;
  }
  // We write, NumPy reads and checks (exit status 0 when every value matches).
  for (bool compress : {false, true}) {
    const auto path = tmp.file(compress ? "ours_c.npz" : "ours_s.npz");
    save_npz(path,
             {{"w", torch::arange(6, torch::kFloat32).reshape({2, 3})},
              {"y", torch::tensor({int64_t(-7), int64_t(1) << 40})},
              {"img", torch::arange(24, torch::kInt64).to(torch::kUInt8).reshape({2, 3, 4})}},
             compress);
    const std::string cmd =
        GPS_PYTHON " -c \"import numpy as np, sys; z = np.load('" + path +
        "'); ok = sorted(z.files) == ['img', 'w', 'y'] and z['w'].dtype == np.float32 and "
        "(z['w'] == np.arange(6, dtype=np.float32).reshape(2, 3)).all() and z['y'].dtype == np.int64 and "
        "list(z['y']) == [-7, 2**40] and z['img'].dtype == np.uint8 and z['img'].shape == (2, 3, 4) and "
        "(z['img'].ravel() == np.arange(24)).all(); sys.exit(0 if ok else 1)\"";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
}

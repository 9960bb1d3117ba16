#include "gps/io/npz.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"
#include "gps/io/npy.h"

#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <memory>

namespace gps {

namespace {

constexpr const char* kNpzHint =
    "\n---> HINT: expected a NumPy .npz file (np.savez or np.savez_compressed): a zip archive of .npy members";

std::string zip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

struct ZipCloser {
  void operator()(zip_t* z) const {
    if (z) zip_discard(z);
  }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

ZipPtr open_for_reading(const std::string& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!z) {
    if (err == ZIP_ER_NOENT || err == ZIP_ER_OPEN)
      GPS_FAIL("cannot open ", path, " (does it exist?): ", zip_error_text(err));
    GPS_FAIL(path, ": cannot read the archive: ", zip_error_text(err), kNpzHint);
  }
  return ZipPtr(z);
}

bool is_npy_member(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0;
}

// Every member "<name>.npy" of `z`: (archive index, name without the suffix).
std::vector<std::pair<zip_uint64_t, std::string>> npy_members(zip_t* z) {
  std::vector<std::pair<zip_uint64_t, std::string>> out;
  const zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z, zip_uint64_t(i), ZIP_FL_ENC_GUESS);
    if (name && is_npy_member(name)) out.emplace_back(zip_uint64_t(i), std::string(name, std::strlen(name) - 4));
  }
  return out;
}

std::string read_member(zip_t* z, zip_uint64_t index, const std::string& what, zip_uint64_t archive_size) {
  zip_stat_t st;
  zip_stat_init(&st);
  GPS_CHECK(zip_stat_index(z, index, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE), what, ": cannot stat the member: ",
            zip_strerror(z), kNpzHint);
  // The recorded size is checked against the compressed size before anything
  // is allocated: deflate expands at most ~1032:1, stored members not at all
  // (a fuzzer found a 204-byte file claiming a 3.2 GB member).
  if (st.valid & ZIP_STAT_COMP_SIZE) {
    GPS_CHECK(st.comp_size <= archive_size, what, ": member claims ", st.comp_size, " compressed bytes in a ",
              archive_size, "-byte archive (corrupt size field)", kNpzHint);
    const bool stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
    const zip_uint64_t limit = stored ? st.comp_size : st.comp_size * 1100 + 1024;
    GPS_CHECK(st.size <= limit, what, ": member claims ", st.size, " bytes from ", st.comp_size,
              " compressed bytes (corrupt size field)", kNpzHint);
  }
  zip_file_t* f = zip_fopen_index(z, index, 0);
  GPS_CHECK(f, what, ": cannot open the member: ", zip_strerror(z), kNpzHint);
  std::string bytes(st.size, '\0');
  zip_uint64_t got = 0;
  while (got < st.size) {
    const zip_int64_t r = zip_fread(f, bytes.data() + got, st.size - got);
    if (r <= 0) {
      const std::string why = r < 0 ? zip_error_strerror(zip_file_get_error(f)) : "unexpected end of data";
      zip_fclose(f);
      GPS_FAIL(what, ": corrupt member (read ", got, " of ", st.size, " bytes: ", why, ")", kNpzHint);
    }
    got += zip_uint64_t(r);
  }
  // Reading once more hits the end of the member, where libzip checks its CRC.
  char extra;
  const zip_int64_t r = zip_fread(f, &extra, 1);
  const std::string why = r < 0 ? zip_error_strerror(zip_file_get_error(f)) : "";
  zip_fclose(f);
  GPS_CHECK(r == 0, what, ": corrupt member (", r < 0 ? why : "longer than its recorded size", ")", kNpzHint);
  return bytes;
}

std::string join_names(const std::vector<std::pair<zip_uint64_t, std::string>>& members) {
  std::string s;
  for (auto& m : members) s += (s.empty() ? "" : ", ") + m.second;
  return s.empty() ? "(none)" : s;
}

}  // namespace

std::vector<std::string> list_npz(const std::string& path) {
  auto z = open_for_reading(path);
  std::vector<std::string> out;
  for (auto& m : npy_members(z.get())) out.push_back(m.second);
  return out;
}

std::map<std::string, torch::Tensor> load_npz(const std::string& path, const std::vector<std::string>& only) {
  auto z = open_for_reading(path);
  std::error_code ec;
  const zip_uint64_t archive_size = std::filesystem::file_size(path, ec);
  const auto members = npy_members(z.get());
  for (const auto& want : only) {
    const bool present =
        std::any_of(members.begin(), members.end(), [&](const auto& m) { return m.second == want; });
    GPS_CHECK(present, path, ": no array '", want, "' (arrays present: ", join_names(members), ")");
  }
  std::map<std::string, torch::Tensor> out;
  for (const auto& [index, name] : members) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    const std::string what = path + ":" + name + ".npy";
    out[name] = parse_npy(read_member(z.get(), index, what, archive_size), what);
  }
  return out;
}

void save_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays, bool compress) {
  // Validate and convert everything before touching the file.
  struct Member {
    std::string name, header;
    torch::Tensor data;  // contiguous CPU
  };
  std::vector<Member> members;
  for (const auto& [name, t] : arrays) {
    GPS_CHECK(!name.empty(), "save_npz ", path, ": empty array name");
    GPS_CHECK(t.defined(), "save_npz ", path, ": array '", name, "' is undefined");
    Member m{name, "", t.detach().to(torch::kCPU).contiguous()};
    try {
      m.header = npy_header(m.data);
    } catch (const Error& e) {
      GPS_FAIL("save_npz ", path, ": array '", name, "': ", e.what());
    }
    members.push_back(std::move(m));
  }

  if (members.empty()) {
    // libzip removes archives left without entries; np.savez() writes the
    // 22-byte end-of-central-directory record alone.
    const char eocd[22] = {'P', 'K', 5, 6};
    atomic_write_text(path, std::string(eocd, sizeof(eocd)));
    return;
  }
  int err = 0;
  // libzip writes into a temporary file beside `path` and renames it on zip_close.
  ZipPtr z(zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err));
  GPS_CHECK(z, "cannot write ", path, ": ", zip_error_text(err));
  for (const auto& m : members) {
    zip_buffer_fragment_t parts[2] = {
        {reinterpret_cast<zip_uint8_t*>(const_cast<char*>(m.header.data())), m.header.size()},
        {static_cast<zip_uint8_t*>(m.data.data_ptr()), zip_uint64_t(m.data.numel()) * m.data.element_size()}};
    zip_error_t e;
    zip_error_init(&e);
    zip_source_t* src = zip_source_buffer_fragment_create(parts, parts[1].length > 0 ? 2 : 1, 0, &e);
    const std::string why = src ? "" : zip_error_strerror(&e);
    zip_error_fini(&e);
    GPS_CHECK(src, "cannot write ", path, ": ", why);
    const std::string member = m.name + ".npy";
    const zip_int64_t idx = zip_file_add(z.get(), member.c_str(), src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      GPS_FAIL("cannot write ", path, ": adding ", member, ": ", zip_strerror(z.get()));
    }
    GPS_CHECK(zip_set_file_compression(z.get(), zip_uint64_t(idx), compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) == 0,
              "cannot write ", path, ": ", zip_strerror(z.get()));
  }
  // The fragments point into `members`, which lives until after zip_close.
  zip_t* raw = z.release();
  if (zip_close(raw) != 0) {
    const std::string why = zip_strerror(raw);
    zip_discard(raw);
    GPS_FAIL("cannot write ", path, ": ", why);
  }
}

}  // namespace gps

#include "gps/io/fs.h"

#include "gps/core/check.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gps {

namespace fs = std::filesystem;

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void atomic_write(const std::string& path, const std::function<void(const std::string& tmp)>& write, bool durable) {
  const std::string tmp = str_cat(path, ".tmp-", ::getpid());
  auto discard = [&] {
    std::error_code ignored;
    fs::remove(tmp, ignored);
  };
  try {
    write(tmp);
  } catch (const std::exception& e) {
    const int err = errno;
    discard();
    GPS_FAIL("cannot write ", path, ": ", e.what(), err == ENOSPC ? " (disk full?)" : "");
  }
  std::error_code ec;
  if (!fs::exists(tmp, ec)) GPS_FAIL("cannot write ", path, ": the writer left no file ", tmp);
  if (durable) fsync_path(tmp);
  fs::rename(tmp, path, ec);
  if (ec) {
    discard();
    GPS_FAIL("cannot write ", path, ": rename from ", tmp, " failed: ", ec.message());
  }
  if (durable) fsync_path(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string());
}

void atomic_write_text(const std::string& path, const std::string& content, bool durable) {
  atomic_write(
      path,
      [&](const std::string& tmp) {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        GPS_CHECK(f, "cannot create ", tmp, ": ", std::strerror(errno));
        f.write(content.data(), std::streamsize(content.size()));
        f.flush();
        GPS_CHECK(f.good(), "writing ", tmp, " failed: ", std::strerror(errno));
      },
      durable);
}

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  GPS_CHECK(f, "cannot open ", what, " ", path, ": ", fs::exists(path) ? std::strerror(errno) : "no such file (does it exist?)");
  std::ostringstream ss;
  ss << f.rdbuf();
  GPS_CHECK(!f.bad(), "cannot read ", what, " ", path);
  return ss.str();
}

std::string cache_dir(const std::string& out_dir) { return (fs::path(out_dir) / "cache").string(); }

}  // namespace gps

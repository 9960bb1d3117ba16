#include "gps/io/fs.h"

#include "gps/core/check.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
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

std::string file_crc32(const std::string& path) {
  const std::string bytes = read_file(path, "cache file");
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t at = 0; at < bytes.size();) {  // zlib takes lengths as uInt
    const size_t n = std::min<size_t>(bytes.size() - at, size_t(1) << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + at), uInt(n));
    at += n;
  }
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08lx", static_cast<unsigned long>(crc));
  return hex;
}

std::string cache_dir(const std::string& out_dir) { return (fs::path(out_dir) / "cache").string(); }

DirLock::DirLock(const std::string& dir, const std::string& what) {
  const std::string path = (fs::path(dir) / ".gps-lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  GPS_CHECK(fd_ >= 0, "cannot create the lock file ", path, " of ", what, " ", dir, ": ", std::strerror(errno),
            " (is the folder writable?)");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {0};
    const ssize_t n = ::pread(fd_, buf, sizeof(buf) - 1, 0);
    ::close(fd_);
    fd_ = -1;
    GPS_CHECK(err == EWOULDBLOCK, "cannot lock ", path, ": ", std::strerror(err));
    const std::string pid = n > 0 ? std::string(buf, size_t(n)) : std::string("unknown");
    GPS_FAIL(what, " ", dir, " is in use by another gps process (pid ", pid.substr(0, pid.find('\n')),
             "): one writer per folder\n---> HINT: wait for it to finish, or stop it (its checkpoint stays valid) and "
             "resume");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t w = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace gps

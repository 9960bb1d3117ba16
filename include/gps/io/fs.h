// Files on disk: atomic writes, whole-file reads, the cache folder.
//
// Every file gps writes goes through atomic_write. The writer fills a
// temporary file next to the target, the temporary is flushed to the disk
// (fsync) when `durable`, then renamed over the target, and the folder is
// flushed too. A crash or a full disk therefore leaves either the old file or
// the new one, never a torn one, and the error names the file.
#pragma once

#include <functional>
#include <string>

namespace gps {

// `write(tmp)` writes the whole content to the path it is given (it may throw;
// a failed std::ofstream should be reported by throwing). Then tmp replaces
// `path`. On any failure the temporary is removed, `path` is left as it was,
// and gps::Error names `path` and the cause ("disk full?" for ENOSPC).
// `durable`: fsync the file and its folder before returning (checkpoints,
// LATEST, run files); false for caches that can be rebuilt.
void atomic_write(const std::string& path, const std::function<void(const std::string& tmp)>& write,
                  bool durable = true);
// The same for bytes in memory.
void atomic_write_text(const std::string& path, const std::string& content, bool durable = true);

// The whole file as bytes. Throws gps::Error naming `path` (and `what` it was
// meant to be, e.g. "config") when it is missing or unreadable.
std::string read_file(const std::string& path, const std::string& what = "file");

// CRC-32 (zlib's) of the whole file as 8 hex digits: the check a cache keeps
// of its files, so that a flipped byte is detected. Throws gps::Error naming
// `path` when it cannot be read.
std::string file_crc32(const std::string& path);

// fsync of an existing file or folder; errors are ignored where the file
// system does not support it.
void fsync_path(const std::string& path);

// <out_dir>/cache: where tables, prior embeddings and trained priors are kept.
std::string cache_dir(const std::string& out_dir);

// One writer per folder: an advisory lock (flock) on <dir>/.gps-lock, which
// holds the owner's pid. It is released when the object is destroyed or the
// process ends, a crash included, so a stale lock never blocks a resume.
class DirLock {
 public:
  // Takes the lock at once or throws gps::Error: "<what> <dir> is in use by
  // another gps process (pid N)". `what` names the folder for the user
  // ("run directory", "experiment folder").
  DirLock(const std::string& dir, const std::string& what);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace gps

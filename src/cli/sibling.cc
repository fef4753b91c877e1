#include "cli/sibling.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace embody::cli {

namespace {

std::vector<char*> CArgv(const std::string& path, const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<std::string> SiblingExecutable(const std::string& name) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return IoError("/proc/self/exe: " + ec.message());
  const std::filesystem::path path = self.parent_path() / name;
  if (::access(path.c_str(), X_OK) != 0) return NotFound(path.string() + ": " + std::strerror(errno));
  if (std::filesystem::equivalent(self, path, ec))
    return FailedPrecondition(path.string() + " is this program itself, not " + name +
                              " (copy or install embody and " + name + " side by side under their own names)");
  return path.string();
}

Status ExecInPlace(const std::string& path, const std::vector<std::string>& argv) {
  std::vector<char*> args = CArgv(path, argv);
  ::execv(path.c_str(), args.data());
  return IoError("exec " + path + ": " + std::strerror(errno));
}

Result<int> RunAndWait(const std::string& path, const std::vector<std::string>& argv, bool quiet_stdout) {
  std::vector<char*> args = CArgv(path, argv);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet_stdout) posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return IoError("spawn " + path + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return IoError("waitpid " + path + ": " + std::strerror(errno));
  }
  if (WIFSIGNALED(status)) return Internal(path + " died of signal " + std::to_string(WTERMSIG(status)));
  return WEXITSTATUS(status);
}

}  // namespace embody::cli

#pragma once
// Runs one of the project's binaries (build/bin/...) as a student would, for the tests that
// check what the real programs print and how they exit.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace test_support {

struct Run {
  int status = -1;      // the exit status; -1 when the program did not exit (a signal: a crash)
  int signal = 0;       // the signal that ended it, or 0
  std::string output;   // stdout and stderr together
};

// `args` is a shell command line after the binary's name in MINIMODEL_BIN_DIR: quote what
// needs quoting. stdout and stderr are captured together, in order.
inline Run run(const std::string& args) {
  const std::string command = std::string(MINIMODEL_BIN_DIR) + "/" + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) output += buffer.data();
  const int raw = pclose(pipe);
  Run result;
  result.output = output;
  if (WIFEXITED(raw)) {
    result.status = WEXITSTATUS(raw);
    // The shell reports a child killed by signal N as exit status 128 + N.
    if (result.status > 128 && result.status < 128 + 65) result.signal = result.status - 128;
  } else if (WIFSIGNALED(raw)) {
    result.signal = WTERMSIG(raw);
  }
  return result;
}

// A fresh path in the temporary directory, unique to this test process.
inline std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("minimodel-test-" + std::to_string(::getpid()) + "-" + name);
}

// Single quotes for the shell (a quote inside becomes '\'').
inline std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace test_support

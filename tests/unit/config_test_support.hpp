// What the config tests share: a throwaway directory for config files and a valid SCRAM verifier.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace phigate::config_test {

// Made by PostgreSQL 15 for the password 'secret' (see pg_auth_test.cpp).
inline constexpr std::string_view verifier_text =
    "SCRAM-SHA-256$4096:AT3050BtChxTdmxaMg/WMA==$WUDWacUkipO1UIb0RPg8Ot1CJi58aPmMx7SXdqk4dfw=:"
    "rt0fJFdDpc0GEqP/q2T8X2AUb54JI27gzlsiF29HEiA=";

/// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("phigate_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() { std::filesystem::remove_all(path_); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string write(const std::string& name, std::string_view content) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace phigate::config_test

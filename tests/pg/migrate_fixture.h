// MigrateTest: a fresh database on the shared real PostgreSQL server and a
// fresh migrations directory per test, plus helpers to run the real
// `schemagate` binary and to look at the database. Every run is checked for
// the password leaking into its output.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "support/pg_server.h"
#include "support/subprocess.h"

namespace sg::testing {

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = SharedPgServer().CreateDatabase("m");
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sg-mig-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& sql) {
    std::ofstream(dir_ / name, std::ios::trunc) << sql;
  }
  void Remove(const std::string& name) { std::filesystem::remove(dir_ / name); }

  // Runs `schemagate migrate <args> --dir D --database-url URL`.
  RunResult Migrate(std::vector<std::string> args, bool with_url = true) {
    std::vector<std::string> argv = {SCHEMAGATE_BIN, "migrate"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--dir");
    argv.push_back(dir_.string());
    if (with_url) {
      argv.push_back("--database-url");
      argv.push_back(url_);
    }
    RunResult r = RunCommand(argv);
    EXPECT_EQ(r.out.find(PgServer::kPassword), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(PgServer::kPassword), std::string::npos) << r.err;
    return r;
  }

  // The same with --output json; the parsed document.
  nlohmann::json MigrateJson(std::vector<std::string> args, int* exit_code = nullptr) {
    args.push_back("--output");
    args.push_back("json");
    RunResult r = Migrate(args);
    if (exit_code) *exit_code = r.exit_code;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "stdout is not one JSON document: " << r.out << r.err;
    return j;
  }

  pqxx::result Query(const std::string& sql) {
    pqxx::connection c(url_);
    pqxx::nontransaction tx(c);
    return tx.exec(sql);
  }
  int64_t Scalar(const std::string& sql) { return Query(sql)[0][0].as<int64_t>(); }
  bool TableExists(const std::string& name) {
    return !Query("SELECT to_regclass('" + name + "')")[0][0].is_null();
  }
  std::vector<int64_t> AppliedVersions() {
    std::vector<int64_t> out;
    for (const auto& row :
         Query("SELECT version FROM schemagate_migrations WHERE state = 'applied' ORDER BY 1")) {
      out.push_back(row[0].as<int64_t>());
    }
    return out;
  }

  std::string url_;
  std::filesystem::path dir_;
};

}  // namespace sg::testing

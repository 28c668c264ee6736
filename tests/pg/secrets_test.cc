// No part of a connection string ever reaches stdout, stderr, the JSON report
// or the termination message, whatever the password holds. Real roles on the
// real server get generated passwords ('%', spaces, quotes, backslashes, '@',
// ':', '/', non-ASCII, very long); each is tried as a correct URL (percent-
// encoded: the run succeeds), a wrong password, and the mistakes people make
// (not encoded, keyword form without quotes, a bare token as the whole URL).
// Seeded; the seed is printed (SG_SEED replays it).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

std::string PercentEncode(const std::string& raw) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : raw) {
    if (std::isalnum(ch)) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

class SecretsTest : public MigrateTest {
 protected:
  // Runs up with `url`; asserts `secret` is nowhere it could be read.
  int RunAndCheck(const std::string& url, const std::string& secret, const std::string& why) {
    std::string log = (dir_ / "termination-log").string();
    std::filesystem::remove(log);
    RunResult r = RunCommand({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(),
                              "--database-url", url, "--output", "json", "--termination-log", log});
    std::ifstream in(log);
    std::stringstream tl;
    tl << in.rdbuf();
    for (const auto& [where, text] : std::vector<std::pair<std::string, std::string>>{
             {"stdout", r.out}, {"stderr", r.err}, {"termination log", tl.str()}}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << why << ": " << where << ": " << text;
    }
    return r.exit_code;
  }
};

TEST_F(SecretsTest, GeneratedPasswordsAppearNowhere) {
  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("SG_SEED")) seed = static_cast<unsigned>(std::stoul(s));
  std::printf("SecretsTest seed %u (SG_SEED=%u to replay)\n", seed, seed);
  std::mt19937 rng(seed);
  std::vector<std::string> alphabet;
  for (char ch : std::string("abcXYZ0189%: /@'\"\\?&=#[]{}!$^*()+,;<>|`~")) {
    alphabet.emplace_back(1, ch);
  }
  alphabet.push_back("\xc3\xa9");      // é
  alphabet.push_back("\xe2\x82\xac");  // €
  Write("0001_a.up.sql", "CREATE TABLE IF NOT EXISTS a (x int);\n");
  const int port = SharedPgServer().port();
  for (int i = 0; i < 12; ++i) {
    size_t len = 12 + rng() % (i == 0 ? 3000 : 40);
    std::string pw = "Q" + std::to_string(i) + "z";  // never a substring of fixed text
    while (pw.size() < len) pw += alphabet[rng() % alphabet.size()];
    std::string why = "seed " + std::to_string(seed) + " case " + std::to_string(i);
    std::string role = "r" + std::to_string(i) + "_" + std::to_string(seed % 100000);
    Query("CREATE ROLE " + role + " LOGIN SUPERUSER");
    {
      pqxx::connection c(url_);
      pqxx::nontransaction tx(c);
      tx.exec("ALTER ROLE " + role + " PASSWORD " + tx.quote(pw));
    }
    std::string db = url_.substr(url_.rfind('/') + 1);
    std::string host = "127.0.0.1:" + std::to_string(port);
    std::string good = "postgresql://" + role + ":" + PercentEncode(pw) + "@" + host + "/" + db;
    EXPECT_EQ(RunAndCheck(good, pw, why + " correct"), 0) << why;
    std::string wrong =
        "postgresql://" + role + ":" + PercentEncode(pw + "x") + "@" + host + "/" + db;
    EXPECT_EQ(RunAndCheck(wrong, pw, why + " wrong password"), 7) << why;
    RunAndCheck("postgresql://" + role + ":" + pw + "@" + host + "/" + db, pw, why + " raw");
    RunAndCheck("host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + db + " user=" + role +
                    " password=" + pw,
                pw, why + " keyword, unquoted");
    RunAndCheck(pw, pw, why + " bare token");
  }
}

}  // namespace
}  // namespace sg::testing

// Fuzz target: the SQL splitter and the transaction-wrapper rules
// (migrate/sql_splitter.h, migrate/source.h) on any bytes a migration file
// may hold. Beyond "no crash": statements come in file order, each one's
// line is within the file, and its text is a piece of the file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "migrate/source.h"
#include "migrate/sql_splitter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto statements = sg::migrate::SplitStatements(sql);
  if (statements.ok()) {
    const int lines = 1 + static_cast<int>(std::count(sql.begin(), sql.end(), '\n'));
    int previous = 1;
    for (const auto& s : *statements) {
      if (s.line < previous || s.line > lines) __builtin_trap();
      if (s.text.empty() || sql.find(s.text) == std::string_view::npos) __builtin_trap();
      previous = s.line;
      (void)sg::migrate::IsTransactionControl(s);
    }
  }
  for (bool no_transaction : {false, true}) {
    (void)sg::migrate::PrepareScript("fuzz.up.sql", sql, no_transaction);
  }
  return 0;
}

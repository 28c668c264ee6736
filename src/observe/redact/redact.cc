#include "observe/redact/redact.h"

#include <array>
#include <cctype>

namespace sg::observe {
namespace {

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Case-insensitive find of an ASCII lowercase `needle` in `text` from `pos`.
size_t FindNoCase(std::string_view text, std::string_view needle, size_t pos) {
  if (needle.empty() || text.size() < needle.size()) return std::string_view::npos;
  for (size_t i = pos; i + needle.size() <= text.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && Lower(text[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return i;
  }
  return std::string_view::npos;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool IsToken68(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/' || c == '=';
}

// password=..., PGPASSWORD: ..., "password":"...": masks the value (the key
// may end a longer name, as in environment variables).
std::string RedactKeyValuePasswords(std::string text) {
  static constexpr std::array<std::string_view, 2> kKeys = {"password", "passwd"};
  for (std::string_view key : kKeys) {
    size_t pos = 0;
    while ((pos = FindNoCase(text, key, pos)) != std::string::npos) {
      size_t i = pos + key.size();
      if (i < text.size() && (text[i] == '"' || text[i] == '\'')) ++i;
      while (i < text.size() && text[i] == ' ') ++i;
      if (i >= text.size() || (text[i] != '=' && text[i] != ':')) {
        pos = pos + key.size();
        continue;
      }
      ++i;
      while (i < text.size() && text[i] == ' ') ++i;
      size_t begin = i, end = i;
      if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
        char quote = text[i];
        begin = i + 1;
        end = begin;
        while (end < text.size() && text[end] != quote) {
          if (text[end] == '\\' && end + 1 < text.size()) ++end;
          ++end;
        }
      } else {
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
               text[end] != '&' && text[end] != ';' && text[end] != ',' && text[end] != '}')
          ++end;
      }
      if (end > begin) text.replace(begin, end - begin, "***");
      pos = begin + 3;
    }
  }
  return text;
}

// "Bearer <token>" / "Basic <credentials>": masks the credential when it
// looks like one (at least 8 token68 characters), so prose stays readable.
std::string RedactAuthSchemes(std::string text) {
  static constexpr std::array<std::string_view, 2> kSchemes = {"bearer ", "basic "};
  for (std::string_view scheme : kSchemes) {
    size_t pos = 0;
    while ((pos = FindNoCase(text, scheme, pos)) != std::string::npos) {
      size_t begin = pos + scheme.size();
      if (pos > 0 && IsWordChar(text[pos - 1])) {
        pos = begin;
        continue;
      }
      size_t end = begin;
      while (end < text.size() && IsToken68(text[end])) ++end;
      if (end - begin >= 8) {
        text.replace(begin, end - begin, "***");
        pos = begin + 3;
      } else {
        pos = begin;
      }
    }
  }
  return text;
}

}  // namespace

bool IsSensitiveKey(std::string_view key) {
  std::string k;
  k.reserve(key.size());
  for (char c : key) {
    if (c == '_' || c == '-' || c == '.' || c == ' ') continue;
    k.push_back(Lower(c));
  }
  // Names of and references to secrets are not secrets: "secretName",
  // "token_file", "fencingToken" (a lease transition count) stay readable.
  static constexpr std::array<std::string_view, 6> kHarmlessSuffixes = {"name", "ref",       "file",
                                                                        "path", "namespace", "key"};
  for (std::string_view s : kHarmlessSuffixes) {
    if (EndsWith(k, s) && k != "apikey" && k != "privatekey") return false;
  }
  if (k == "fencingtoken" || k == "fencetoken") return false;
  static constexpr std::array<std::string_view, 10> kSensitive = {
      "password",   "passwd", "pwd",           "token",      "secret",
      "credential", "apikey", "authorization", "privatekey", "cookie"};
  for (std::string_view s : kSensitive) {
    if (k.find(s) != std::string::npos) return true;
  }
  return false;
}

std::string RedactUrlPasswords(std::string_view text) {
  std::string out(text);
  size_t pos = 0;
  while ((pos = out.find("://", pos)) != std::string::npos) {
    size_t start = pos + 3;
    size_t end = out.find_first_of("/?# \t\r\n\"'<>", start);
    if (end == std::string::npos) end = out.size();
    // The last '@' of the authority ends the userinfo (an unencoded '@' in a
    // password must not leak its tail).
    size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < start) {
      pos = start;
      continue;
    }
    size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
      pos = colon + 4;
    } else {
      pos = at + 1;
    }
  }
  return out;
}

std::string RedactText(std::string_view text) {
  return RedactAuthSchemes(RedactKeyValuePasswords(RedactUrlPasswords(text)));
}

std::string RedactField(std::string_view key, std::string_view value) {
  if (IsSensitiveKey(key)) return std::string(kRedacted);
  return RedactText(value);
}

}  // namespace sg::observe

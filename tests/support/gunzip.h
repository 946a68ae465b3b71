#pragma once

#include <zlib.h>

#include <optional>
#include <string>

namespace portwarden::testing {

// zlib's inflate over every gzip member in `data`, one after the other; nullopt if any is
// not valid gzip or the data ends inside one. Counts the members in `*members`.
inline std::optional<std::string> Gunzip(const std::string& data, size_t* members = nullptr) {
  if (members) *members = 0;
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return std::nullopt;  // 32: gzip or zlib header
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END && members) ++*members;
    if (rc == Z_STREAM_END && z.avail_in > 0) rc = inflateReset(&z);  // the next member
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace portwarden::testing

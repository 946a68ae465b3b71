#include "exporter/rendered_body.h"

#include <zlib.h>

#include <climits>

namespace portwarden {
namespace {

// zlib level for /metrics. Measured on a 1,973,799-byte /metrics of the large benchmark
// fixture (5000 listeners), best of 7, 2-core EPYC VM: level 1 149,081 bytes (7.6%) in
// 4.8 ms; 3: 142,724 (7.2%) 5.5 ms; 6 (zlib's default): 116,390 (5.9%) 15.8 ms; 9: 106,442
// (5.4%) 72 ms. Level 1 already cuts the bytes 13-fold; the higher levels save a few more
// kilobytes for 3-15 times the CPU, paid by the first gzip scrape of every snapshot.
constexpr int kGzipLevel = Z_BEST_SPEED;

// Appends `input` deflated by `z` and flushed with `flush` (Z_SYNC_FLUSH or Z_FINISH) to
// `out`; false on a zlib error or an input too large for one call.
bool Deflate(z_stream& z, std::string_view input, int flush, std::string& out) {
  if (input.size() > UINT_MAX) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  size_t used = out.size();
  out.resize(used + input.size() / 8 + 64);  // the metrics text compresses about 13-fold
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(out.size() - used);
    const int rc = deflate(&z, flush);
    used = out.size() - z.avail_out;
    if (rc == Z_STREAM_END) break;                      // Z_FINISH: all written
    if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    if (flush != Z_FINISH && z.avail_out > 0) break;    // a flush: all written
    out.resize(out.size() * 2);                         // full: go on with more room
  }
  out.resize(used);
  return true;
}

// `more` as raw deflate blocks (windowBits -15), which may follow a sync flush of the same
// member, flushed with `flush`; false on a zlib error.
bool DeflateRaw(std::string_view more, int flush, std::string& out) {
  z_stream z{};
  if (deflateInit2(&z, kGzipLevel, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  const bool ok = Deflate(z, more, flush, out);
  deflateEnd(&z);
  return ok;
}

// The CRC-32 and length of the text of `start` followed by `more`; no bytes.
GzipStart Extended(const GzipStart& start, std::string_view more) {
  GzipStart next{{}, start.crc, start.length + static_cast<uint32_t>(more.size())};
  if (!more.empty()) {  // crc32() of a null buffer returns 0, not the CRC it was given
    const auto* data = reinterpret_cast<const Bytef*>(more.data());
    next.crc = static_cast<uint32_t>(crc32(start.crc, data, static_cast<uInt>(more.size())));
  }
  return next;
}

}  // namespace

GzipStart GzipBegin(std::string_view text) {
  GzipStart start;
  z_stream z{};
  // windowBits 15 + 16: zlib writes the gzip header and keeps the CRC-32 in z.adler.
  if (deflateInit2(&z, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return start;
  }
  if (Deflate(z, text, Z_SYNC_FLUSH, start.bytes)) {
    start.crc = static_cast<uint32_t>(z.adler);
    start.length = static_cast<uint32_t>(text.size());
  } else {
    start.bytes.clear();
  }
  deflateEnd(&z);  // unfinished: GzipEnd writes the final block and the trailer
  return start;
}

GzipStart GzipContinue(const GzipStart& start, std::string_view more) {
  GzipStart next = Extended(start, more);
  if (start.bytes.empty() || !DeflateRaw(more, Z_SYNC_FLUSH, next.bytes)) return {};
  return next;
}

std::string GzipEnd(const GzipStart& start, std::string_view more) {
  std::string out;
  if (start.bytes.empty() || !DeflateRaw(more, Z_FINISH, out)) return {};
  const GzipStart all = Extended(start, more);
  for (uint32_t word : {all.crc, all.length}) {  // little-endian, RFC 1952 section 2.3
    for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((word >> shift) & 0xff);
  }
  return out;
}

RenderedBody::RenderedBody(std::string text, std::shared_ptr<const RenderedBody> prefix)
    : prefix_(std::move(prefix)), text_(std::move(text)) {
  std::call_once(text_once_, [] {});  // nothing left to render
}

RenderedBody::RenderedBody(std::function<std::string()> render,
                           std::shared_ptr<const RenderedBody> prefix)
    : prefix_(std::move(prefix)), render_(std::move(render)) {}

const std::string& RenderedBody::text() const {
  std::call_once(text_once_, [this] {
    text_ = render_();
    render_ = nullptr;  // and what it captured
  });
  return text_;
}

std::vector<std::string_view> RenderedBody::Pieces() const {
  std::vector<std::string_view> pieces =
      prefix_ ? prefix_->Pieces() : std::vector<std::string_view>{};
  pieces.push_back(text());
  return pieces;
}

std::vector<std::string_view> RenderedBody::GzipPieces() const {
  std::vector<std::string_view> pieces =
      prefix_ ? prefix_->GzipPieces() : std::vector<std::string_view>{};
  pieces.push_back(Gzip().bytes);
  return pieces;
}

const GzipStart& RenderedBody::Gzip() const {
  std::call_once(gzip_once_, [this] {
    gzip_ = prefix_ ? GzipContinue(prefix_->Gzip(), text()) : GzipBegin(text());
  });
  return gzip_;
}

}  // namespace portwarden

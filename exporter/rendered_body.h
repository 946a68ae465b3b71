#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace portwarden {

/// The start of a gzip member (RFC 1952): the gzip header and a text deflated up to a byte
/// boundary (a sync flush) but not finished, so that GzipEnd can go on with more text in the
/// same member. One member rather than two concatenated ones: Go's reader (Prometheus'
/// scraper) takes several members, but curl 7.88 stops after the first with an error.
struct GzipStart {
  std::string bytes;    ///< empty if zlib failed (out of memory)
  uint32_t crc = 0;     ///< CRC-32 of the text
  uint32_t length = 0;  ///< of the text, modulo 2^32 as the trailer has it
};
GzipStart GzipBegin(std::string_view text);

/// The member `start` began, continued with `more` deflated up to a sync flush: the result's
/// bytes follow start.bytes (they do not repeat them); its crc and length are those of both
/// texts, so it can be continued or ended in turn.
GzipStart GzipContinue(const GzipStart& start, std::string_view more);

/// The rest of the member `start` began: `more` deflated up to the final block, then the
/// trailer (CRC-32 and length of both texts). start.bytes followed by this is gzip of the
/// start's text followed by `more`. Empty if zlib failed (out of memory).
std::string GzipEnd(const GzipStart& start, std::string_view more);

/// A response body rendered once, with the start of its gzip form made on first demand (a
/// body only plain clients ask for is never compressed). It may follow a prefix shared by
/// several bodies (the listener families, the same for every snapshot with the same
/// listeners), whose gzip form is then made once for all of them. Thread-safe.
class RenderedBody {
 public:
  /// A body whose text is already rendered.
  explicit RenderedBody(std::string text, std::shared_ptr<const RenderedBody> prefix = nullptr);
  /// A body rendered by `render` on first use: the first caller of text(), Pieces() or
  /// Gzip() renders, concurrent callers wait for that one render, later ones share it.
  explicit RenderedBody(std::function<std::string()> render,
                        std::shared_ptr<const RenderedBody> prefix = nullptr);
  /// The plain body: the prefix's pieces, then text().
  std::vector<std::string_view> Pieces() const;
  /// The start of the gzip member in pieces, as Gzip().bytes of the prefix and of this body.
  std::vector<std::string_view> GzipPieces() const;
  /// This body's own text, without the prefix.
  const std::string& text() const;
  /// GzipBegin(text()), or GzipContinue(prefix's Gzip(), text()), compressed once by the
  /// first caller: concurrent callers wait for it, later ones share it.
  const GzipStart& Gzip() const;

 private:
  const std::shared_ptr<const RenderedBody> prefix_;
  mutable std::once_flag text_once_;
  mutable std::function<std::string()> render_;  // dropped once it has run
  mutable std::string text_;                     // written once, under text_once_
  mutable std::once_flag gzip_once_;
  mutable GzipStart gzip_;  // written once, under gzip_once_
};

}  // namespace portwarden

// Makes Debian 12's CivetWeb work with OpenSSL 3. Built as a shared library whose SONAME is
// "libssl.so" (see exporter/CMakeLists.txt), which portwarden depends on.
//
// libcivetweb1 1.15 loads OpenSSL at run time: dlopen("libssl.so"), then dlsym of each
// function by its OpenSSL 1.1 name. OpenSSL 3 renamed SSL_get_peer_certificate to
// SSL_get1_peer_certificate (same reference counting: the caller frees the result), so that
// pointer stays null and CivetWeb calls it after every TLS handshake: a crash. glibc's dlopen
// returns an already loaded object whose SONAME equals the name asked for, so CivetWeb gets
// this library; dlsym on it finds every other function in its dependency libssl.so.3 and
// the missing one here. It also spares production hosts the libssl-dev package, the only
// one that ships the unversioned libssl.so name.
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate  // OpenSSL 3 maps the old name to the new one by a macro

extern "C" __attribute__((visibility("default"))) X509* SSL_get_peer_certificate(const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}

// The libcrypto half of tls_compat.cpp: an empty library whose SONAME is "libcrypto.so" and
// whose only content is its dependency on libcrypto.so.3, so that CivetWeb's
// dlopen("libcrypto.so") finds OpenSSL 3's libcrypto without the libssl-dev package.

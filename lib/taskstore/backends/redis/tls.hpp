#pragma once
// TLS for the Redis backend's rediss:// connections (private to
// backends/redis/, not installed): an OpenSSL session put directly on the TCP
// socket that hiredis connected, so that Connection's own non-blocking waits
// (poll beside the interrupt fd, under the deadline) drive the handshake and
// every read and write. docs/redis-tls.md says why this design, not a relay.
//
// OpenSSL is opened with dlopen (libssl.so.3) on the first rediss:// store,
// not linked: linked, libssl and libcrypto cost every taskctl run ~1.4 ms of
// CPU at start, whatever the store. This header includes no OpenSSL header.
//
// Failures are thrown as TlsError, which only connection.cpp catches: it
// turns them into taskstore errors, as it does every other failure.

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

namespace taskstore::redis_detail {

// The TLS settings of a rediss:// URI.
struct TlsOptions
{
  std::string cacert;    // ?cacert=FILE or directory; "" = the system CA store
  std::string cert;      // ?cert=FILE: the client certificate (chain), PEM; "" = none
  std::string key;       // ?key=FILE: its private key, PEM, unencrypted
  bool insecure = false; // ?insecure=1: no certificate or host name verification
};

// A TLS failure, for connection.cpp to translate.
class TlsError : public std::runtime_error
{
public:
  enum class Kind
  {
    library,     // libssl cannot be loaded or lacks a function
    file,        // a cacert/cert/key file is missing, unreadable or invalid
    certificate, // the server's certificate failed verification, or the server refused ours
    not_tls,     // the server answered the handshake with something that is not TLS
    closed,      // the server closed the connection
    io,          // a socket error (sys_errno)
    protocol,    // any other TLS error
  };
  TlsError(Kind kind_, std::string text, std::string openssl_ = {}, int sys_errno_ = 0)
    : std::runtime_error(std::move(text)), kind(kind_), openssl(std::move(openssl_)), sys_errno(sys_errno_)
  {
  }
  Kind kind;
  std::string openssl; // OpenSSL's own reason ("certificate verify failed"), "" when none
  int sys_errno;
};

// A TLS client configuration (an OpenSSL SSL_CTX): the trusted CAs, the
// client certificate, the verification mode. Shared by every connection of a
// store: the CA store is read once per store, not per connection.
class TlsContext
{
public:
  // Loads libssl (on the first call in the process) and the files options
  // name. Throws TlsError (library) when libssl.so.3 cannot be loaded and
  // TlsError (file) when a file is missing, unreadable, not PEM, or the key
  // does not match the certificate (or is encrypted: nothing may prompt).
  explicit TlsContext(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  const TlsOptions& options() const { return options_; }

  struct Impl;
  const Impl& impl() const { return *impl_; }

private:
  TlsOptions options_;
  std::unique_ptr<Impl> impl_;
};

// What a non-blocking TLS operation waits for before it can go on.
enum class TlsWait
{
  none,  // done (or made progress)
  read,  // the socket must be readable
  write, // the socket must be writable
};

// One TLS session on a connected, non-blocking socket (which it does not own
// or close). Every call returns at once; the caller polls the socket for what
// it returns and calls again.
class TlsSession
{
public:
  // host: the name (SNI and verified against the certificate) or the IP
  // address (verified as an address; no SNI) the connection was made to.
  // Throws TlsError (protocol) when the session cannot be made.
  TlsSession(const TlsContext& context, int fd, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Advances the handshake. Returns none when it is complete, else what to
  // wait for. Throws TlsError: certificate (naming the verification failure
  // or the server's alert), not_tls, closed, io or protocol.
  TlsWait handshake();

  // Reads up to size decrypted bytes into out. Returns how many (0 when none
  // are ready; wait then says what to wait for). Throws TlsError as
  // handshake() does (closed at the end of the stream; certificate when the
  // server refuses the client certificate after a TLS 1.3 handshake).
  std::size_t read(char* out, std::size_t size, TlsWait& wait);

  // Writes up to size bytes of data. Returns how many were written (0 when
  // none could be; wait says what to wait for). data may move between calls,
  // but after a call that wrote nothing it must begin with the same bytes.
  // Throws TlsError as read() does.
  std::size_t write(const char* data, std::size_t size, TlsWait& wait);

  // Sends close_notify (best effort; never throws, never waits).
  void close() noexcept;

private:
  // Returns what the failed call (result) waits for, or throws its TlsError.
  TlsWait outcome(int result);

  struct State;
  std::unique_ptr<State> state_;
};

// The version of the libssl loaded ("OpenSSL 3.0.19 27 Jan 2026"), loading
// it; "" when it cannot be loaded.
std::string tls_library_version();

} // namespace taskstore::redis_detail

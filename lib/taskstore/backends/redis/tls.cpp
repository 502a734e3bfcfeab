// TLS for rediss:// (tls.hpp): OpenSSL, opened with dlopen, on the socket
// hiredis connected. Only this file includes OpenSSL's headers, and it calls
// OpenSSL only through the table of entry points below (OpenSSL's macros,
// SSL_set_mode and the like, are spelled out as the SSL_ctrl calls they are).
#include "taskstore/backends/redis/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <sys/stat.h>
#include <type_traits>
#include <unistd.h>

namespace taskstore::redis_detail {
namespace {

// libssl's (and, through it, libcrypto's) entry points.
struct SslApi
{
  decltype(&::TLS_client_method) client_method = nullptr;
  decltype(&::SSL_CTX_new) ctx_new = nullptr;
  decltype(&::SSL_CTX_free) ctx_free = nullptr;
  decltype(&::SSL_CTX_ctrl) ctx_ctrl = nullptr;
  decltype(&::SSL_CTX_set_default_verify_paths) ctx_default_verify_paths = nullptr;
  decltype(&::SSL_CTX_load_verify_locations) ctx_load_verify_locations = nullptr;
  decltype(&::SSL_CTX_use_certificate_chain_file) ctx_use_certificate_chain_file = nullptr;
  decltype(&::SSL_CTX_use_PrivateKey_file) ctx_use_private_key_file = nullptr;
  decltype(&::SSL_CTX_check_private_key) ctx_check_private_key = nullptr;
  decltype(&::SSL_CTX_set_verify) ctx_set_verify = nullptr;
  decltype(&::SSL_CTX_set_default_passwd_cb) ctx_set_default_passwd_cb = nullptr;
  decltype(&::SSL_new) ssl_new = nullptr;
  decltype(&::SSL_free) ssl_free = nullptr;
  decltype(&::SSL_ctrl) ssl_ctrl = nullptr;
  decltype(&::SSL_set_fd) set_fd = nullptr;
  decltype(&::SSL_set1_host) set1_host = nullptr;
  decltype(&::SSL_get0_param) get0_param = nullptr;
  decltype(&::SSL_set_read_ahead) set_read_ahead = nullptr;
  decltype(&::SSL_connect) connect = nullptr;
  decltype(&::SSL_read_ex) read_ex = nullptr;
  decltype(&::SSL_write_ex) write_ex = nullptr;
  decltype(&::SSL_get_error) get_error = nullptr;
  decltype(&::SSL_get_verify_result) get_verify_result = nullptr;
  decltype(&::SSL_shutdown) shutdown = nullptr;
  decltype(&::X509_VERIFY_PARAM_set1_ip_asc) param_set1_ip_asc = nullptr;
  decltype(&::X509_verify_cert_error_string) verify_error_string = nullptr;
  decltype(&::ERR_get_error) err_get_error = nullptr;
  decltype(&::ERR_reason_error_string) err_reason_string = nullptr;
  decltype(&::ERR_error_string_n) err_error_string_n = nullptr;
  decltype(&::ERR_clear_error) err_clear_error = nullptr;
  decltype(&::OpenSSL_version) version = nullptr;
};

// Returns libssl's entry points, loading libssl.so.3 (and with it
// libcrypto.so.3) on the first call; throws TlsError (library) when it does
// not load or lacks a function. The table is built once per process.
const SslApi&
ssl()
{
  static const SslApi api = [] {
    void* lib = ::dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* error = ::dlerror();
      throw TlsError(TlsError::Kind::library, std::string("rediss:// needs OpenSSL 3 (Debian package libssl3): ") +
                                                (error != nullptr ? error : "libssl.so.3 does not load"));
    }
    SslApi a;
    auto bind = [lib](auto& fn, const char* symbol) {
      void* address = ::dlsym(lib, symbol);
      if (address == nullptr) {
        throw TlsError(TlsError::Kind::library,
                       std::string("rediss:// needs OpenSSL 3: the loaded libssl has no ") + symbol);
      }
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(address);
    };
    bind(a.client_method, "TLS_client_method");
    bind(a.ctx_new, "SSL_CTX_new");
    bind(a.ctx_free, "SSL_CTX_free");
    bind(a.ctx_ctrl, "SSL_CTX_ctrl");
    bind(a.ctx_default_verify_paths, "SSL_CTX_set_default_verify_paths");
    bind(a.ctx_load_verify_locations, "SSL_CTX_load_verify_locations");
    bind(a.ctx_use_certificate_chain_file, "SSL_CTX_use_certificate_chain_file");
    bind(a.ctx_use_private_key_file, "SSL_CTX_use_PrivateKey_file");
    bind(a.ctx_check_private_key, "SSL_CTX_check_private_key");
    bind(a.ctx_set_verify, "SSL_CTX_set_verify");
    bind(a.ctx_set_default_passwd_cb, "SSL_CTX_set_default_passwd_cb");
    bind(a.ssl_new, "SSL_new");
    bind(a.ssl_free, "SSL_free");
    bind(a.ssl_ctrl, "SSL_ctrl");
    bind(a.set_fd, "SSL_set_fd");
    bind(a.set1_host, "SSL_set1_host");
    bind(a.get0_param, "SSL_get0_param");
    bind(a.set_read_ahead, "SSL_set_read_ahead");
    bind(a.connect, "SSL_connect");
    bind(a.read_ex, "SSL_read_ex");
    bind(a.write_ex, "SSL_write_ex");
    bind(a.get_error, "SSL_get_error");
    bind(a.get_verify_result, "SSL_get_verify_result");
    bind(a.shutdown, "SSL_shutdown");
    bind(a.param_set1_ip_asc, "X509_VERIFY_PARAM_set1_ip_asc");
    bind(a.verify_error_string, "X509_verify_cert_error_string");
    bind(a.err_get_error, "ERR_get_error");
    bind(a.err_reason_string, "ERR_reason_error_string");
    bind(a.err_error_string_n, "ERR_error_string_n");
    bind(a.err_clear_error, "ERR_clear_error");
    bind(a.version, "OpenSSL_version");
    return a;
  }();
  return api;
}

// Returns the text of OpenSSL's oldest queued error (its reason, e.g.
// "wrong version number"), with the reason code in reason; clears the queue.
// "" when the queue is empty.
std::string
take_error(unsigned long* first = nullptr)
{
  const SslApi& api = ssl();
  const unsigned long e = api.err_get_error();
  if (first != nullptr) {
    *first = e;
  }
  std::string text;
  if (e != 0) {
    const char* reason = api.err_reason_string(e);
    if (reason != nullptr) {
      text = reason;
    } else {
      char buffer[256];
      api.err_error_string_n(e, buffer, sizeof buffer);
      text = buffer;
    }
  }
  api.err_clear_error();
  return text;
}

// A private key file must not make OpenSSL prompt on the terminal for a
// passphrase: this callback supplies none, so an encrypted key fails to load.
int
no_passphrase(char*, int, int, void*)
{
  return 0;
}

// Whether path names a directory (a hashed CA directory, as for openssl -CApath).
bool
is_directory(const std::string& path)
{
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Throws TlsError (file) when path cannot be opened for reading, with the
// system's reason: OpenSSL's own message for a missing file is "system lib".
void
check_readable(const std::string& path, const char* what)
{
  if (::access(path.c_str(), R_OK) != 0) {
    throw TlsError(TlsError::Kind::file, std::string("cannot read the ") + what + " " + path + ": " +
                                           std::strerror(errno));
  }
}

// Whether an alert the server sent (its reason code in OpenSSL's error
// queue, SSL_AD_REASON_OFFSET + the alert) is about certificates: the server
// refused ours, or wants one.
bool
is_certificate_alert(unsigned long error)
{
  const int reason = ERR_GET_REASON(error);
  const int alert = reason - SSL_AD_REASON_OFFSET;
  switch (alert) {
  case SSL_AD_BAD_CERTIFICATE:
  case SSL_AD_UNSUPPORTED_CERTIFICATE:
  case SSL_AD_CERTIFICATE_REVOKED:
  case SSL_AD_CERTIFICATE_EXPIRED:
  case SSL_AD_CERTIFICATE_UNKNOWN:
  case SSL_AD_UNKNOWN_CA:
  case SSL_AD_ACCESS_DENIED:
  case SSL_AD_CERTIFICATE_REQUIRED:
    return true;
  default:
    return false;
  }
}

// Whether an error means the peer does not speak TLS: what OpenSSL reports
// when the first bytes back are not a TLS record (a plain Redis answering the
// ClientHello with "-ERR ...").
bool
is_not_tls(unsigned long error)
{
  const int reason = ERR_GET_REASON(error);
  return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
         reason == SSL_R_UNKNOWN_PROTOCOL || reason == SSL_R_HTTP_REQUEST || reason == SSL_R_RECORD_LENGTH_MISMATCH;
}

} // namespace

// ---------------------------------------------------------------------------
// TlsContext

struct TlsContext::Impl
{
  SSL_CTX* ctx = nullptr;
  ~Impl()
  {
    if (ctx != nullptr) {
      ssl().ctx_free(ctx);
    }
  }
};

TlsContext::TlsContext(const TlsOptions& options) : options_(options), impl_(std::make_unique<Impl>())
{
  const SslApi& api = ssl();
  api.err_clear_error();
  impl_->ctx = api.ctx_new(api.client_method());
  if (impl_->ctx == nullptr) {
    throw TlsError(TlsError::Kind::protocol, "cannot make a TLS context: " + take_error());
  }
  SSL_CTX* ctx = impl_->ctx;
  api.ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  api.ctx_set_default_passwd_cb(ctx, &no_passphrase);

  if (options_.cacert.empty()) {
    // The system store (Debian: /etc/ssl/certs, ca-certificates), or what
    // SSL_CERT_FILE / SSL_CERT_DIR name.
    if (api.ctx_default_verify_paths(ctx) != 1) {
      throw TlsError(TlsError::Kind::file, "cannot load the system CA store: " + take_error());
    }
  } else {
    check_readable(options_.cacert, "CA certificate file (?cacert=)");
    const bool dir = is_directory(options_.cacert);
    if (api.ctx_load_verify_locations(ctx, dir ? nullptr : options_.cacert.c_str(),
                                      dir ? options_.cacert.c_str() : nullptr) != 1) {
      throw TlsError(TlsError::Kind::file, "cannot load the CA certificates (?cacert=) " + options_.cacert + ": " +
                                             take_error() + " (a PEM file of CA certificates is needed)");
    }
  }

  if (!options_.cert.empty() || !options_.key.empty()) {
    if (options_.cert.empty() || options_.key.empty()) {
      throw TlsError(TlsError::Kind::file, "a client certificate needs both ?cert=FILE and ?key=FILE");
    }
    check_readable(options_.cert, "client certificate file (?cert=)");
    check_readable(options_.key, "client key file (?key=)");
    if (api.ctx_use_certificate_chain_file(ctx, options_.cert.c_str()) != 1) {
      throw TlsError(TlsError::Kind::file,
                     "cannot load the client certificate (?cert=) " + options_.cert + ": " + take_error());
    }
    if (api.ctx_use_private_key_file(ctx, options_.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      const std::string why = take_error();
      if (why.find("mismatch") != std::string::npos) {
        throw TlsError(TlsError::Kind::file, "the client key (?key=) does not match the client certificate (?cert=)",
                       why);
      }
      throw TlsError(TlsError::Kind::file,
                     "cannot load the client key (?key=): " + why + " (an unencrypted PEM private key is needed)");
    }
    if (api.ctx_check_private_key(ctx) != 1) {
      throw TlsError(TlsError::Kind::file,
                     "the client key (?key=) does not match the client certificate (?cert=): " + take_error());
    }
  }
  api.ctx_set_verify(ctx, options_.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
}

TlsContext::~TlsContext() = default;

// ---------------------------------------------------------------------------
// TlsSession

struct TlsSession::State
{
  SSL* ssl = nullptr;
  std::string host;
  bool insecure = false;
  bool client_certificate = false; // a ?cert= was configured
  bool handshake_done = false;
  std::size_t retry_size = 0; // the size of a write to repeat (OpenSSL wants the same one), 0 = none
  ~State()
  {
    if (ssl != nullptr) {
      redis_detail::ssl().ssl_free(ssl);
    }
  }
};

TlsSession::TlsSession(const TlsContext& context, int fd, const std::string& host)
  : state_(std::make_unique<State>())
{
  const SslApi& api = ssl();
  api.err_clear_error();
  state_->host = host;
  state_->insecure = context.options().insecure;
  state_->client_certificate = !context.options().cert.empty();
  state_->ssl = api.ssl_new(context.impl().ctx);
  SSL* s = state_->ssl;
  if (s == nullptr || api.set_fd(s, fd) != 1) {
    throw TlsError(TlsError::Kind::protocol, "cannot make a TLS session: " + take_error());
  }
  // Partial writes: a write returns as soon as one record went out, and the
  // buffer (hiredis' output buffer, which grows as commands are queued) may
  // move between a write and its repetition.
  api.ssl_ctrl(s, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, nullptr);
  // Read what the socket has, not a record header then its body: half the
  // read(2) calls on a listing.
  api.set_read_ahead(s, 1);

  unsigned char address[sizeof(in6_addr)];
  const bool is_ip = ::inet_pton(AF_INET, host.c_str(), address) == 1 || ::inet_pton(AF_INET6, host.c_str(), address) == 1;
  if (is_ip) {
    // An address is verified against the certificate's IP SANs, and is no
    // server name to send (RFC 6066 §3).
    if (!state_->insecure && api.param_set1_ip_asc(api.get0_param(s), host.c_str()) != 1) {
      throw TlsError(TlsError::Kind::protocol, "cannot verify the address " + host + ": " + take_error());
    }
  } else {
    if (api.ssl_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) !=
        1) {
      throw TlsError(TlsError::Kind::protocol, "cannot send the server name " + host + ": " + take_error());
    }
    if (!state_->insecure && api.set1_host(s, host.c_str()) != 1) {
      throw TlsError(TlsError::Kind::protocol, "cannot verify the host name " + host + ": " + take_error());
    }
  }
}

TlsSession::~TlsSession() = default;

namespace {

// What to do about a verification failure (an X509_V_ERR_* code): "" when
// the reason says it all.
std::string
verify_hint(long verify, const std::string& host)
{
  switch (verify) {
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    return "unknown CA: the certificate is not signed by a CA this client trusts; name the server's CA "
           "with ?cacert=FILE";
  case X509_V_ERR_HOSTNAME_MISMATCH:
    return "the certificate is not for the host name " + host;
  case X509_V_ERR_IP_ADDRESS_MISMATCH:
    return "the certificate is not for the IP address " + host;
  case X509_V_ERR_CERT_HAS_EXPIRED:
    return "expired: the server needs a new certificate";
  case X509_V_ERR_CERT_NOT_YET_VALID:
    return "check the clocks of both machines";
  default:
    return "";
  }
}

} // namespace

// Turns the outcome of an SSL call that returned result into what to wait
// for, or throws the TlsError it is: the session is not established yet
// while !handshake_done (a verification failure, or a peer that is not TLS).
TlsWait
TlsSession::outcome(int result)
{
  const SslApi& api = ssl();
  const int saved_errno = errno;
  SSL* s = state_->ssl;
  const int code = api.get_error(s, result);
  if (code == SSL_ERROR_WANT_READ) {
    return TlsWait::read;
  }
  if (code == SSL_ERROR_WANT_WRITE) {
    return TlsWait::write;
  }
  const bool during_handshake = !state_->handshake_done;
  const std::string closed = during_handshake ? "the server closed the connection during the TLS handshake (a "
                                                "TLS port refusing it, or a plain one: that needs redis://)"
                                              : "the server closed the connection";
  unsigned long first = 0;
  const std::string text = take_error(&first);
  if (code == SSL_ERROR_ZERO_RETURN) {
    throw TlsError(TlsError::Kind::closed, "the server closed the TLS connection");
  }
  if (code == SSL_ERROR_SYSCALL) {
    if (saved_errno != 0 && first == 0) {
      throw TlsError(TlsError::Kind::io, std::strerror(saved_errno), {}, saved_errno);
    }
    throw TlsError(TlsError::Kind::closed, closed);
  }
  if (code == SSL_ERROR_SSL) {
    const int reason = ERR_GET_REASON(first);
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && !state_->insecure) {
      const long verify = api.get_verify_result(s);
      const std::string hint = verify_hint(verify, state_->host);
      throw TlsError(TlsError::Kind::certificate, std::string("the server's certificate was not accepted: ") +
                                                    api.verify_error_string(verify) +
                                                    (hint.empty() ? "" : " (" + hint + ")"),
                     text);
    }
    if (is_certificate_alert(first)) {
      const bool required = reason - SSL_AD_REASON_OFFSET == SSL_AD_CERTIFICATE_REQUIRED;
      const bool sent = state_->client_certificate;
      throw TlsError(TlsError::Kind::certificate,
                     "the server refused the TLS connection: " + text +
                       (required || !sent ? " (the server requires a client certificate: pass ?cert=FILE&key=FILE)"
                                          : " (the server did not accept the client certificate ?cert=)"),
                     text);
    }
    if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      throw TlsError(TlsError::Kind::closed, closed, text);
    }
    if (during_handshake && is_not_tls(first)) {
      throw TlsError(TlsError::Kind::not_tls, "its answer to the TLS handshake is not TLS", text);
    }
    throw TlsError(TlsError::Kind::protocol, "TLS error: " + (text.empty() ? std::string("unknown") : text), text);
  }
  throw TlsError(TlsError::Kind::protocol, "TLS error " + std::to_string(code) + (text.empty() ? "" : ": " + text));
}

TlsWait
TlsSession::handshake()
{
  const SslApi& api = ssl();
  api.err_clear_error();
  errno = 0;
  const int result = api.connect(state_->ssl);
  if (result == 1) {
    state_->handshake_done = true;
    return TlsWait::none;
  }
  return outcome(result);
}

std::size_t
TlsSession::read(char* out, std::size_t size, TlsWait& wait)
{
  const SslApi& api = ssl();
  api.err_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int result = api.read_ex(state_->ssl, out, size, &n);
  if (result == 1) {
    wait = TlsWait::none;
    return n;
  }
  wait = outcome(result);
  return 0;
}

std::size_t
TlsSession::write(const char* data, std::size_t size, TlsWait& wait)
{
  const SslApi& api = ssl();
  api.err_clear_error();
  errno = 0;
  if (state_->retry_size != 0) {
    size = state_->retry_size; // a repeated write must have the same size
  }
  std::size_t n = 0;
  const int result = api.write_ex(state_->ssl, data, size, &n);
  if (result == 1) {
    state_->retry_size = 0;
    wait = TlsWait::none;
    return n;
  }
  wait = outcome(result);
  state_->retry_size = size;
  return 0;
}

void
TlsSession::close() noexcept
{
  if (state_->handshake_done) {
    ssl().shutdown(state_->ssl); // close_notify, if the socket takes it now
    ssl().err_clear_error();
  }
}

std::string
tls_library_version()
{
  try {
    return ssl().version(OPENSSL_VERSION);
  } catch (const TlsError&) {
    return "";
  }
}

} // namespace taskstore::redis_detail
